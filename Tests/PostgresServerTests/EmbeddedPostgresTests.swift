import Foundation
import Postgres
import TestSupport
import Testing

@testable import PostgresServer

@Suite struct EmbeddedPostgresTests {
    @Test func createsReusesAndSurvivesAStalePidFile() async throws {
        let cluster = TestDatabase.privateCluster()
        let configuration = try await cluster.start(logger: TestDatabase.logger)
        let firstPID = try #require(try cluster.runningPID())
        #expect(FileManager.default.fileExists(atPath: cluster.options.dataDirectory + "/PG_VERSION"))

        // Already running: reused, not restarted.
        _ = try await cluster.start(logger: TestDatabase.logger)
        #expect(try cluster.runningPID() == firstPID)

        // Listening on the socket only.
        let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
        let listen = try await connection.query("SELECT current_setting('listen_addresses')").first?.decode(String.self, at: 0)
        #expect(listen == "")
        await connection.close()

        // A crash leaves postmaster.pid naming a process that is not PostgreSQL.
        try await cluster.stop(mode: .immediate)
        #expect(try cluster.runningPID() == nil)
        let pidFile = cluster.options.dataDirectory + "/postmaster.pid"
        try "\(getpid())\n\(cluster.options.dataDirectory)\n".write(toFile: pidFile, atomically: false, encoding: .utf8)
        #expect(try cluster.runningPID() == nil)
        _ = try await cluster.start(logger: TestDatabase.logger)
        let again = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
        #expect(try await again.query("SELECT 1").affectedRows == 1)
        await again.close()
        try await cluster.stop()
    }

    @Test func missingServerProgramsAreNamed() throws {
        let error = #expect(throws: EmbeddedPostgresError.self) { try ClusterTools.find(in: ["/nonexistent/bin"]) }
        #expect(error?.message.contains("initdb, pg_ctl") == true)
        #expect(error?.message.contains("apt-get install postgresql") == true)
        #expect(error?.message.contains("DATABASE_URL") == true)
    }
}
