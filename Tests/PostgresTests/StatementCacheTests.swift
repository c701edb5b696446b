import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct StatementCacheTests {
    @Test func repeatedQueriesSurviveSchemaChangesAndDeallocation() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE t (id int)")
            try await connection.query("INSERT INTO t VALUES (\(1))")
            try await connection.query("INSERT INTO t VALUES (\(2))")
            let prepared = try await connection.query("SELECT count(*) FROM pg_prepared_statements").first?.decode(Int.self, at: 0)
            #expect(prepared ?? 0 >= 2)
            #expect(try await connection.query("SELECT * FROM t ORDER BY id").rows.first?.values.count == 1)
            // The cached plan's result type changes: the statement is prepared again, not failed.
            try await connection.query("ALTER TABLE t ADD COLUMN label text")
            #expect(try await connection.query("SELECT * FROM t ORDER BY id").rows.first?.values.count == 2)
            try await connection.query("DEALLOCATE ALL")
            try await connection.query("INSERT INTO t VALUES (\(3))")
            #expect(try await connection.query("SELECT count(*) FROM t").first?.decode(Int.self, at: 0) == 3)
            await connection.close()
        }
    }

    @Test func aStalePlanInsideATransactionReportsTheRealCause() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE t (id int)")
            let error = await #expect(throws: PostgresError.self) {
                try await connection.withTransaction { connection in
                    try await connection.query("SELECT * FROM t")
                    try await connection.query("ALTER TABLE t ADD COLUMN label text")
                    try await connection.query("SELECT * FROM t")
                }
            }
            #expect(error?.code == "0A000")
            // After the rollback the statement is prepared afresh.
            #expect(try await connection.query("SELECT * FROM t").columns.names == ["id"])
            await connection.close()
        }
    }

    @Test func sameTextWithOtherParameterTypesIsPreparedSeparately() async throws {
        let connection = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        let number = try await connection.query("SELECT \(42)::text").first?.decode(String.self, at: 0)
        let text = try await connection.query("SELECT \("42")::text").first?.decode(String.self, at: 0)
        #expect(number == "42" && text == "42")
        await connection.close()
    }

    @Test func disabledCacheUsesUnnamedStatements() async throws {
        var configuration = try await TestDatabase.server()
        configuration.statementCacheCapacity = 0
        let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
        for value in 1...3 { try await connection.query("SELECT \(value)") }
        let prepared = try await connection.query("SELECT count(*) FROM pg_prepared_statements").first?.decode(Int.self, at: 0)
        #expect(prepared == 0)
        await connection.close()
    }
}
