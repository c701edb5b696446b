import Foundation
import Logging
import Postgres
import TestSupport
import Testing

@Suite struct ConnectionTests {
    @Test func sessionIsPinnedToUTF8UTCAndISO() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            let row = try await connection.query(
                "SELECT current_setting('TimeZone'), current_setting('client_encoding'), current_setting('DateStyle'), current_setting('application_name')"
            ).first!
            let settings = try row.decode((String, String, String, String).self)
            #expect(settings.0 == "UTC")
            #expect(settings.1 == "UTF8")
            #expect(settings.2 == "ISO, YMD")
            #expect(settings.3 == "billing-events")
            await connection.close()
        }
    }

    @Test func uniqueViolationCarriesSQLStateConstraintAndTable() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE accounts (id int PRIMARY KEY, email text CONSTRAINT accounts_email_key UNIQUE)")
            try await connection.query("INSERT INTO accounts VALUES (\(1), \("a@example.com"))")
            let error = await #expect(throws: PostgresError.self) {
                try await connection.query("INSERT INTO accounts VALUES (\(2), \("a@example.com"))")
            }
            #expect(error?.code == .uniqueViolation)
            #expect(error?.constraint == "accounts_email_key")
            #expect(error?.table == "accounts")
            #expect(error?.detail?.contains("a@example.com") == true)
            #expect(error?.description.contains("a@example.com") == false)
            // ON CONFLICT DO NOTHING is the dedupe path: no error, zero rows.
            let result = try await connection.query("INSERT INTO accounts VALUES (\(3), \("a@example.com")) ON CONFLICT DO NOTHING")
            #expect(result.affectedRows == 0)
            let matched: Bool
            do {
                try await connection.query("INSERT INTO accounts VALUES (\(1), \("b@example.com"))")
                matched = false
            } catch PostgresError.Code.uniqueViolation {
                matched = true
            }
            #expect(matched)
            await connection.close()
        }
    }

    @Test func syntaxErrorsReportPosition() async throws {
        let connection = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        let error = await #expect(throws: PostgresError.self) { try await connection.query("SELEC 1") }
        #expect(error?.code == .syntaxError)
        #expect(error?.position == 1)
        #expect(error?.query == "SELEC 1")
        #expect(try await connection.query("SELECT 1").affectedRows == 1)
        await connection.close()
    }

    @Test func transactionsCommitRollBackAndRefuseAbortedCommits() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE t (v int PRIMARY KEY)")
            try await connection.withTransaction { try await $0.query("INSERT INTO t VALUES (1)") }
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await connection.withTransaction { connection in
                    try await connection.query("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            // A failed statement whose error the body swallowed must not look like a commit.
            let aborted = await #expect(throws: PostgresTransactionError.self) {
                try await connection.withTransaction { connection in
                    try await connection.query("INSERT INTO t VALUES (3)")
                    _ = try? await connection.query("INSERT INTO t VALUES (1)")
                }
            }
            #expect(aborted?.step == .commit && aborted?.error.code == "25P02" && aborted?.outcomeUnknown == false)
            let level = try await connection.withTransaction(isolation: .serializable, readOnly: true) { connection in
                try await connection.query("SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')")
                    .first!.decode((String, String).self)
            }
            #expect(level == ("serializable", "on"))
            #expect(try await connection.query("SELECT v FROM t ORDER BY v").decodeColumn(Int.self) == [1])
            #expect(await connection.isReusable)
            await connection.close()
        }
    }

    @Test func cancellingTheTaskCancelsTheQuery() async throws {
        let connection = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { try await connection.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let error = await #expect(throws: PostgresError.self) { try await task.value }
        #expect(error?.code == .queryCanceled)
        #expect(clock.now - start < .seconds(5))
        #expect(try await connection.query("SELECT 2").first?.decode(Int.self, at: 0) == 2)
        await connection.close()
    }

    @Test func blockingQueriesNeverStallTheCooperativePool() async throws {
        let pool = PostgresPool(
            configuration: try await TestDatabase.server(), options: .init(maxConnections: 4), logger: TestDatabase.logger)
        // Warm the connections so connecting is not measured.
        try await withThrowingTaskGroup { group in
            for _ in 0..<4 { group.addTask { try await pool.query("SELECT pg_sleep(0.05)") } }
            try await group.waitForAll()
        }
        let clock = ContinuousClock()
        let start = clock.now
        let heartbeat = Task { () -> Duration in
            var last = clock.now
            var worst = Duration.zero
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(10))
                let now = clock.now
                worst = max(worst, now - last)
                last = now
            }
            return worst
        }
        try await withThrowingTaskGroup { group in
            for _ in 0..<4 { group.addTask { try await pool.query("SELECT pg_sleep(1)") } }
            try await group.waitForAll()
        }
        let elapsed = clock.now - start
        heartbeat.cancel()
        let worstGap = await heartbeat.value
        // Four one-second sleeps ran side by side, and the 10 ms heartbeat kept ticking throughout.
        #expect(elapsed < .milliseconds(1800), "elapsed \(elapsed)")
        // A blocked pool stalls it for the whole second; a machine busy with every other suite
        // delays a tick by up to a few hundred milliseconds (256 ms seen).
        #expect(worstGap < .milliseconds(600), "heartbeat stalled for \(worstGap)")
        await pool.close()
    }

    @Test func noticesGoToTheLogger() async throws {
        let (logger, store) = CapturingLogHandler.logger()
        let connection = try await PostgresConnection.connect(TestDatabase.server(), logger: logger)
        try await connection.query("DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; RAISE WARNING 'careful'; END $$")
        #expect(store.all.contains { $0.0 == .debug && $0.1.contains("hello from plpgsql") })
        #expect(store.all.contains { $0.0 == .warning && $0.1.contains("careful") })
        await connection.close()
    }

    @Test func unreachableServerIsAClearError() async throws {
        let configuration = PostgresConfiguration(
            connectionString: "host=/nonexistent/socket/dir port=1 dbname=x user=x connect_timeout=2")
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
        }
        #expect(error?.code == .unableToConnect)
        #expect(error?.message.contains("/nonexistent/socket/dir") == true)
    }

    @Test func redactedDescriptionHidesThePassword() {
        let configuration = PostgresConfiguration(connectionString: "postgresql://app:s3cret@db.internal:6543/billing?sslmode=require")
        #expect(configuration.redactedDescription == "host=db.internal port=6543 dbname=billing user=app")
        #expect(!configuration.redactedDescription.contains("s3cret"))
        #expect(throws: PostgresError.self) { try PostgresConfiguration(connectionString: "host='unterminated").validate() }
    }

    @Test func parametersOfMultiHostStringsAreRead() {
        let conninfo = PostgresConfiguration(connectionString: "host=pg-a,pg-b port=5432,5433 dbname=billing target_session_attrs=read-write")
        #expect(conninfo.parameter("host") == "pg-a,pg-b")
        #expect(conninfo.parameter("target_session_attrs") == "read-write")
        let uri = PostgresConfiguration(connectionString: "postgresql://app@r1:5432,r2:5432/billing?target_session_attrs=prefer-standby")
        #expect(uri.parameter("host") == "r1,r2")
        #expect(uri.parameter("target_session_attrs") == "prefer-standby")
        #expect(PostgresConfiguration(connectionString: "dbname=billing").parameter("sslmode") == nil)
    }

    @Test func closedConnectionsSayso() async throws {
        let connection = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        await connection.close()
        let error = await #expect(throws: PostgresError.self) { try await connection.query("SELECT 1") }
        #expect(error?.code == .connectionDoesNotExist)
        #expect(await connection.isReusable == false)
    }
}

@Suite struct PerformTests {
    @Test func runsStatementsSynchronouslyOnTheConnection() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            let count = try await connection.perform { connection in
                try connection.execute("CREATE TABLE t (id int PRIMARY KEY)")
                for id in 1...50 { try connection.execute("INSERT INTO t VALUES (\(id))") }
                return try connection.execute("SELECT count(*) FROM t").first!.decode(Int.self, at: 0)
            }
            #expect(count == 50)
            await connection.close()
        }
    }

    @Test func cancellingThePerformingTaskCancelsTheStatement() async throws {
        let connection = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        let task = Task { try await connection.perform { try $0.execute("SELECT pg_sleep(30)") } }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let error = await #expect(throws: PostgresError.self) { try await task.value }
        #expect(error?.code == .queryCanceled)
        #expect(await connection.isReusable)
        await connection.close()
    }
}
