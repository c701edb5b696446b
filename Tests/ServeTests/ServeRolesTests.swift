import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

/// `serve --role` subsets, `READ_DATABASE_URL`, and readiness of real processes.
@Suite struct ServeRolesTests {
    @Test func theQueryAPIReadsFromTheReadDatabase() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: TestDatabase.logger)
            try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: TestDatabase.logger).migrate()
            let token = try await APIKeyStore(pool: pool).create(name: "replica").token
            // A read-only session stands in for a replica: any write through it would fail.
            let readURL = configuration.connectionString + " application_name=billing-events-read options='-c default_transaction_read_only=on'"
            let serve = try ServeProcess(configuration: configuration, arguments: ["--role", "api", "--no-migrate", "--read-database-url", readURL])
            try await serve.waitUntilUp()
            let answer = try await RawHTTP.send(port: serve.port, path: "/v1/payments?limit=5", headers: [("Authorization", "Bearer \(token)")])
            #expect(answer.status == 200, "\(answer.text)")
            let readers = try await pool.query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'billing-events-read' AND datname = current_database()"
            ).decodeColumn(Int.self)[0]
            #expect(readers >= 1)
            // The key's last use is written through the primary.
            #expect(
                try await ServeSupport.eventually {
                    try await pool.query("SELECT count(*) FROM billing.api_keys WHERE last_used_at IS NOT NULL").decodeColumn(Int.self)[0] == 1
                })
            let metrics = try await serve.metrics()
            #expect(metrics[#"billing_events_db_pool_max{pool="read"}"#] == 10)
            #expect(try await RawHTTP.send(port: serve.port, method: "POST", path: "/webhooks/mintcash", body: Array("{}".utf8)).status == 404)
            serve.signal(SIGTERM)
            #expect(try await serve.waitForExit() == 0)
            await pool.close()
        }
    }

    @Test func readinessIsFalseWhileMigrationsArePendingOrTheReadDatabaseIsAway() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let pending = try ServeProcess(configuration: configuration, arguments: ["--no-migrate"])
            try await pending.waitUntilUp(ready: false)
            let answer = try await RawHTTP.send(port: pending.port, path: "/readyz")
            #expect(answer.status == 503 && answer.text.contains("migrations pending"))
            pending.signal(SIGTERM)
            #expect(try await pending.waitForExit() == 0)

            let away = "host=127.0.0.1 port=\(RawHTTP.freePort()) dbname=nothing connect_timeout=1"
            let replicaAway = try ServeProcess(configuration: configuration, arguments: ["--role", "api", "--read-database-url", away])
            try await replicaAway.waitUntilUp(ready: false)
            let notReady = try await RawHTTP.send(port: replicaAway.port, path: "/readyz")
            #expect(notReady.status == 503 && notReady.text.contains("unreachable"))
            replicaAway.signal(SIGTERM)
            #expect(try await replicaAway.waitForExit() == 0)
        }
    }

    @Test func anUnknownRoleIsAUsageError() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestExecutables.path("billing-events"))
        process.arguments = ["serve", "--role", "receiver,reporter"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 64)
        #expect(output.contains(#"unknown role "reporter""#))
    }
}
