import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct PipelineTests {
    @Test func aBatchRunsInOneRoundTripAndReturnsEveryResult() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE t (id int PRIMARY KEY, body jsonb)")
            var batch: [PostgresQuery] = (1...500).map { id in
                "INSERT INTO t VALUES (\(id), \(PostgresJSONB(#"{"n": \#(id), "s": "\#(String(repeating: "x", count: 2000))"}"#)))"
            }
            batch.append("SELECT count(*) FROM t")
            let results = try await connection.pipeline(batch)
            #expect(results.count == 501)
            #expect(results[0].affectedRows == 1)
            #expect(try results[500].first?.decode(Int.self, at: 0) == 500)
            #expect(await connection.isReusable)
            await connection.close()
        }
    }

    @Test func aFailureRollsBackTheWholeBatch() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE t (id int PRIMARY KEY)")
            try await connection.query("INSERT INTO t VALUES (1)")
            let error = await #expect(throws: PostgresError.self) {
                try await connection.pipeline(["INSERT INTO t VALUES (\(4))", "INSERT INTO t VALUES (\(1))", "INSERT INTO t VALUES (\(5))"])
            }
            #expect(error?.code == .uniqueViolation)
            #expect(try await connection.query("SELECT count(*) FROM t").first?.decode(Int.self, at: 0) == 1)
            #expect(try await connection.pipeline([]).isEmpty)
            #expect(try await connection.pipeline(["SELECT \(7)"]).first?.first?.decode(Int.self, at: 0) == 7)
            await connection.close()
        }
    }
}
