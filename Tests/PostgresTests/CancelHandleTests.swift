import Foundation
import TestSupport
import Testing

@testable import Postgres

@Suite struct CancelHandleTests {
    /// A cancel requested for an operation that has ended (the task was cancelled just as its
    /// statement finished) must not cancel whatever the connection runs next, for someone else.
    @Test func aLateCancelNeverReachesTheNextOperation() async throws {
        let connection = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        let stale = connection.cancelHandle.ticket()
        connection.cancelHandle.finish()
        let next = Task { try await connection.query("SELECT pg_sleep(0.5)") }
        try await Task.sleep(for: .milliseconds(150))
        connection.cancelHandle.requestCancel(stale)
        _ = try await next.value

        // The running operation's own ticket still cancels it.
        let running = Task { try await connection.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(150))
        connection.cancelHandle.requestCancel(connection.cancelHandle.ticket())
        let error = await #expect(throws: PostgresError.self) { try await running.value }
        #expect(error?.code == .queryCanceled)
        await connection.close()
    }
}
