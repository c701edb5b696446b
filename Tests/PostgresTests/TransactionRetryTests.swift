import Postgres
import TestSupport
import Testing

@Suite struct TransactionRetryTests {
    /// Two transactions that take the same two rows in opposite order deadlock for real; the
    /// server aborts one, which runs again once the other committed, so both updates land.
    @Test func aDeadlockedTransactionRunsAgainAndBothCommit() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let setup = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await setup.query("CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL)")
            try await setup.query("INSERT INTO t VALUES (1, 0), (2, 0)")
            let first = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            let second = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            @Sendable func crossing(_ connection: PostgresConnection, _ a: Int, _ b: Int) async throws -> Int {
                try await connection.perform { connection in
                    var attempts = 0
                    try connection.transaction(retryingConflicts: 3) {
                        attempts += 1
                        try connection.execute("UPDATE t SET n = n + 1 WHERE id = \(a)")
                        try connection.execute("SELECT pg_sleep(0.3)")
                        try connection.execute("UPDATE t SET n = n + 1 WHERE id = \(b)")
                    }
                    return attempts
                }
            }
            async let one = crossing(first, 1, 2)
            async let two = crossing(second, 2, 1)
            let attempts = try await [one, two]
            // At least one of them was the deadlock's victim and ran again; both committed.
            #expect(attempts.reduce(0, +) >= 3 && attempts.allSatisfy { $0 <= 4 }, "\(attempts)")
            #expect(try await setup.query("SELECT n FROM t ORDER BY id").decodeColumn(Int.self) == [2, 2])
            for connection in [setup, first, second] { await connection.close() }
        }
    }

    @Test func otherErrorsAndTheLastConflictAreThrownAndNothingIsKept() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE t (v int PRIMARY KEY)")
            let (uniqueAttempts, uniqueCode, conflictAttempts, conflictCode) = try await connection.perform { connection in
                var unique = 0
                var uniqueCode: PostgresError.Code?
                do {
                    try connection.transaction(retryingConflicts: 3) {
                        unique += 1
                        try connection.execute("INSERT INTO t VALUES (1), (1)")
                    }
                } catch let error as PostgresError { uniqueCode = error.code }
                var conflicts = 0
                var conflictCode: PostgresError.Code?
                do {
                    try connection.transaction(retryingConflicts: 2) {
                        conflicts += 1
                        try connection.execute("INSERT INTO t VALUES (\(conflicts))")
                        throw PostgresError(code: .serializationFailure, message: "simulated")
                    }
                } catch let error as PostgresError { conflictCode = error.code }
                return (unique, uniqueCode, conflicts, conflictCode)
            }
            #expect(uniqueAttempts == 1 && uniqueCode == .uniqueViolation)
            #expect(conflictAttempts == 3 && conflictCode == .serializationFailure)
            #expect(try await connection.query("SELECT count(*)::int8 FROM t").decodeColumn(Int.self) == [0])
            await connection.close()
        }
    }

    /// Each transaction step says when it failed: a deferred constraint fails COMMIT (known
    /// outcome: nothing kept); BEGIN on a closed connection
    /// fails BEGIN; a body's own error comes back unchanged after the rollback.
    @Test func failedStepsAreNamedAndBodyErrorsPassThrough() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query(
                "CREATE TABLE t (v int, CONSTRAINT unique_v UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)")
            let commit = await #expect(throws: PostgresTransactionError.self) {
                try await connection.perform { connection in
                    try connection.transaction { try connection.execute("INSERT INTO t VALUES (1), (1)") }
                }
            }
            #expect(commit?.step == .commit && commit?.error.code == .uniqueViolation && commit?.outcomeUnknown == false)
            #expect(commit.map { PostgresError.cause(of: $0)?.constraint } == "unique_v")
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await connection.withTransaction { connection in
                    try await connection.query("INSERT INTO t VALUES (2)")
                    throw Refused()
                }
            }
            try await connection.withTransaction { try await $0.query("INSERT INTO t VALUES (3)") }
            #expect(try await connection.query("SELECT v FROM t ORDER BY v").decodeColumn(Int.self) == [3])
            await connection.close()
            let begin = await #expect(throws: PostgresTransactionError.self) {
                try await connection.withTransaction { try await $0.query("SELECT 1") }
            }
            #expect(begin?.step == .begin)
        }
    }

    /// A task cancelled inside `withTransaction` (here while a statement runs) rolls back anyway:
    /// the connection comes back outside any transaction and the insert before it is gone.
    @Test func aCancelledTransactionRollsBackAndLeavesTheConnectionIdle() async throws {
        let connection = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        try await connection.query("CREATE TEMP TABLE cancelled_transaction (v int)")
        let task = Task {
            try await connection.withTransaction { connection in
                try await connection.query("INSERT INTO cancelled_transaction VALUES (1)")
                try await connection.query("SELECT pg_sleep(30)")
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        task.cancel()
        await #expect(throws: (any Error).self) { try await task.value }
        #expect(await connection.isReusable)
        #expect(try await connection.query("SELECT count(*) FROM cancelled_transaction").decodeColumn(Int.self) == [0])
        await connection.close()
    }
}
