import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

/// `billing-events quarantine dismiss` through the real CLI, against a real `serve`.
@Suite struct QuarantineDismissTests {
    /// Runs the executable against `configuration`; returns its status and combined output.
    private func cli(_ arguments: [String], _ configuration: PostgresConfiguration) async throws -> (status: Int32, output: String) {
        let log = TestDatabase.makeScratchDirectory() + "/cli.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestExecutables.path("billing-events"))
        process.arguments = arguments + ["--database-url", configuration.connectionString]
        process.environment = ProcessInfo.processInfo.environment.merging(["LOG_LEVEL": "error", "USER": "tester"]) { $1 }
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(30)) }
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test func dismissedEntriesLeaveTheOpenGaugeAreKeptForAuditAndAreNeverRetried() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let serve = try ServeProcess(configuration: configuration, arguments: ["--role", "receiver"], environment: ServeSupport.environment)
            try await serve.waitUntilUp()
            for id in ["q-1", "q-2"] {
                let body = ProviderFixtures.mintcashPayment(eventID: id, event: "payment.teleported")
                #expect(try await ServeSupport.mintcash(serve, eventID: id, body: body).text.contains(#""status":"quarantined""#))
            }
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: TestDatabase.logger)
            defer { Task { await pool.close() } }
            let ids = try await pool.query("SELECT id FROM billing.quarantine ORDER BY id").decodeColumn(Int64.self)
            #expect(ids.count == 2)
            // The gauge is sampled at each scrape by a probe bounded at 2 s: on a loaded machine one
            // scrape may keep the previous sample.
            func gauge(is value: Double) async throws -> Bool {
                try await ServeSupport.eventually(timeout: .seconds(10)) { try await serve.metrics()["billing_events_quarantine_open"] == value }
            }
            #expect(try await gauge(is: 2))

            // A reason is required, and so is a selection.
            #expect(try await cli(["quarantine", "dismiss", "--id", "\(ids[0])"], configuration).status != 0)
            #expect(try await cli(["quarantine", "dismiss", "--id", "\(ids[0])", "--reason", "  "], configuration).status != 0)
            #expect(try await cli(["quarantine", "dismiss", "--reason", "x"], configuration).status != 0)

            let dismissed = try await cli(
                ["quarantine", "dismiss", "--id", "\(ids[0])", "--reason", "test event from the provider's dashboard"], configuration)
            #expect(dismissed.status == 0, "\(dismissed.output)")
            #expect(dismissed.output.contains("\(ids[0]): dismissed"))
            #expect(try await gauge(is: 1), "the gauge drops")
            // The provider sending the same delivery again does not reopen it.
            let repeated = ProviderFixtures.mintcashPayment(eventID: "q-1", event: "payment.teleported")
            #expect(try await ServeSupport.mintcash(serve, eventID: "q-1", body: repeated).text.contains(#""status":"quarantined""#))
            #expect(try await gauge(is: 1))

            // Again: no longer open, so exit 1 and nothing changes.
            let again = try await cli(["quarantine", "dismiss", "--id", "\(ids[0])", "--reason", "twice"], configuration)
            #expect(again.status == 1)
            #expect(again.output.contains("not open"))

            // Kept for audit: who, when, why; hidden from the open list, shown by --all.
            let audit = try await pool.query(
                """
                SELECT dismissed_by, dismissed_reason, dismissed_at IS NOT NULL AND resolved_at IS NOT NULL, event_id IS NULL
                FROM analytics.quarantine WHERE quarantine_id = \(ids[0])
                """)
            let (by, reason, closed, noEvent) = try audit.rows[0].decode((String, String, Bool, Bool).self)
            #expect(by.contains("@") && by.contains("database role"), "\(by)")
            #expect(reason == "test event from the provider's dashboard")
            #expect(closed && noEvent)
            let open = try await cli(["quarantine", "list"], configuration).output
            #expect(!open.contains("dismissed") && open.contains("\(ids[1])"))
            let all = try await cli(["quarantine", "list", "--all"], configuration).output
            #expect(all.contains("dismissed") && all.contains("test event from the provider's dashboard"), "\(all)")

            // A retry leaves a dismissed entry alone (it only sees the other, still open, one).
            let retry = try await cli(["quarantine", "retry"], configuration)
            #expect(retry.output.contains("retried 1:"), "\(retry.output)")
            #expect(!retry.output.split(separator: "\n").contains { $0.hasPrefix("\(ids[0]):") }, "\(retry.output)")

            // By provider: the rest go, and the gauge reads zero.
            #expect(try await cli(["quarantine", "dismiss", "--provider", "mintcash", "--reason", "unsupported type"], configuration).status == 0)
            #expect(try await gauge(is: 0))
            serve.signal(SIGTERM)
            #expect(try await serve.waitForExit() == 0)
        }
    }
}
