import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct ListenTests {
    @Test func notificationsArriveInOrderWithPayloads() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let listener = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            let sender = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await listener.listen("events appended")
            let receiving = Task { () -> [PostgresNotification] in
                var received: [PostgresNotification] = []
                for try await notification in listener.notifications {
                    received.append(notification)
                    if received.count == 3 { break }
                }
                return received
            }
            try await sender.notify("events appended", payload: "1")
            try await sender.notify("other channel", payload: "ignored")
            try await sender.withTransaction { connection in
                try await connection.notify("events appended", payload: "Zoë 🧾")
                try await connection.notify("events appended", payload: "")
            }
            let received = try await receiving.value
            #expect(received.map(\.payload) == ["1", "Zoë 🧾", ""])
            #expect(received.allSatisfy { $0.channel == "events appended" })
            #expect(received.first?.backendPID == (await sender.backendPID))
            await listener.close()
            await sender.close()
        }
    }

    @Test func iterationStopsWhenTheTaskIsCancelled() async throws {
        let listener = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        try await listener.listen("quiet")
        let task = Task { () -> Int in
            var count = 0
            for try await _ in listener.notifications { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        #expect(try await task.value == 0)
        await listener.close()
    }

    @Test func aLostListenerConnectionEndsTheSequenceWithAnError() async throws {
        let listener = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        let admin = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        try await listener.listen("doomed")
        let pid = await listener.backendPID
        let task = Task { for try await _ in listener.notifications {} }
        try await Task.sleep(for: .milliseconds(200))
        try await admin.query("SELECT pg_terminate_backend(\(pid))")
        await #expect(throws: PostgresError.self) { try await task.value }
        await admin.close()
    }
}
