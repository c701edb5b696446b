import BillingCore
import Foundation
import Postgres
import PostgresServer
import TestSupport
import Testing

@testable import BillingStore

@Suite struct BackfillResumeTests {
    /// Starts `billing-events backfill` for `path` against `configuration`.
    private func start(_ path: String, _ configuration: PostgresConfiguration) throws -> Process {
        let process = Process()
        // At the lowest priority: on a busy machine the importer then gets little of a core while
        // this test is late to stop it again, so a slice stays short (it finished in one in CI).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
        process.arguments = [
            "-n", "19", TestExecutables.path("billing-events"), "backfill", "--database-url", configuration.connectionString, "--provider",
            "mintcash", "--batch-size", "200", path,
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["LOG_LEVEL": "error"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func recordsDone(_ pool: PostgresPool) async throws -> Int {
        try await pool.query("SELECT coalesce(max(records_done), 0)::int8 FROM billing.backfill_files").decodeColumn(Int.self)[0]
    }

    private func checkpoint(_ pool: PostgresPool) async throws -> [String] {
        try await pool.query(
            """
            SELECT concat_ws(' ', records_done, inserted, duplicates, snapshots, rejected, rejects_bytes, completed_at IS NOT NULL)
            FROM billing.backfill_files
            """
        ).decodeColumn(String.self)
    }

    /// Lets a stopped process run for 3 ms. Timed on a thread of its own with `usleep`: a
    /// `Task.sleep` waits for a free thread of the cooperative pool, which parallel tests on a
    /// loaded machine kept busy long enough for the whole import to finish in one slice.
    private func runSlice(of pid: pid_t) async throws {
        try await BlockingExecutor.detached {
            kill(pid, SIGCONT)
            usleep(3_000)
            kill(pid, SIGSTOP)
        }
    }

    @Test func runsKilledAtRandomPointsResumeToExactlyTheCleanResult() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestExecutables.path("billing-events")), "build the executable first (swift build)")
        var generator = HistoryGenerator(seed: 64)
        var lines = generator.history(entities: 3_000).filter { $0.provider == "mintcash" }.map(\.body)
        for index in stride(from: 37, to: lines.count, by: 97) {
            lines.insert(index % 2 == 0 ? "{broken" : lines[index / 2], at: index)  // rejects and repeats along the way
        }
        let path = exportDirectory() + "/mintcash.ndjson"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)

        // The clean run.
        var clean: (rows: [String], checkpoint: [String], rejects: Data) = ([], [], Data())
        try await withMigratedPool { pool in
            let report = try await importFile(path, provider: .mintcash, into: pool.configuration) { $0.batchSize = 200 }
            #expect(report.counts.rejected > 5 && report.counts.duplicates > 5)
            clean = (try await eventRows(pool), try await checkpoint(pool), try Data(contentsOf: URL(fileURLWithPath: path + ".rejects.ndjson")))
            try FileManager.default.removeItem(atPath: path + ".rejects.ndjson")
        }

        // The same import killed three times at random points, then run to its end, on a cluster
        // of its own: a SIGSTOPped importer holds an open transaction's xid for most of the test,
        // which would hold back the horizon that every log reader of the shared server waits for.
        let cluster = TestDatabase.privateCluster()
        defer { try? cluster.stopNow(mode: .immediate) }
        let configuration = try await cluster.start(logger: TestDatabase.logger)
        try await PostgresPool.withPool(configuration, options: .init(maxConnections: 4), logger: TestDatabase.logger) { pool in
            try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: TestDatabase.logger).migrate()
            var kills = 0
            var reached = 0
            while kills < 3 {
                let target = reached + generator.int(1...(lines.count - reached) / 3)
                let process = try start(path, pool.configuration)
                // The importer runs only in short slices between SIGSTOPs, so it cannot race past the
                // target while a loaded machine delays this loop (it finished early in CI).
                kill(process.processIdentifier, SIGSTOP)
                let extraSlices = generator.int(0...4)  // a random point past the target's batch
                var slices = 0
                while process.isRunning, try await recordsDone(pool) < target || slices < extraSlices {
                    try await runSlice(of: process.processIdentifier)
                    if try await recordsDone(pool) >= target { slices += 1 }
                }
                guard process.isRunning else { break }
                kill(process.processIdentifier, SIGKILL)
                while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
                kills += 1
                let done = try await recordsDone(pool)
                #expect(done >= reached)
                reached = done
            }
            #expect(kills == 3, "the import finished before it could be killed three times")
            let last = try start(path, pool.configuration)
            while last.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            #expect(last.terminationStatus == 2)  // records were rejected
            #expect(try await eventRows(pool) == clean.rows)
            #expect(try await checkpoint(pool) == clean.checkpoint)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path + ".rejects.ndjson")) == clean.rejects)
        }
    }
}
