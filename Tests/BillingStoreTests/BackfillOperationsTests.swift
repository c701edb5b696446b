import BillingCore
import Foundation
import Postgres
import TestSupport
import Testing

@testable import BillingStore

/// What an operator sees of backfill runs: one analytics row per run, the summary, the exit
/// status, progress lines and messages of the real command.
@Suite struct BackfillOperationsTests {
    private func payment(_ id: String) -> String {
        #"{"eventId":"\#(id)","event":"payment.succeeded","type":"payment","environment":"live","createdAt":"2026-05-22T14:32:08.412Z","data":{"id":"pmt_\#(id)","amount":"49.99","currency":"USD"}}"#
    }

    /// A MintCash export of `count` payments, with the line `{not json` at the end when `reject`.
    private func export(_ name: String, count: Int, reject: Bool = false) throws -> String {
        let path = exportDirectory() + "/" + name
        let lines = (1...count).map { payment("e\($0)") } + (reject ? ["{not json"] : [])
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `billing-events backfill` to its end; standard output and error apart.
    private func backfill(
        _ arguments: [String], _ configuration: PostgresConfiguration
    ) async throws -> (status: Int32, output: String, errors: String) {
        let directory = TestDatabase.makeScratchDirectory()
        let (out, err) = (directory + "/out", directory + "/err")
        for path in [out, err] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestExecutables.path("billing-events"))
        process.arguments = ["backfill", "--database-url", configuration.connectionString, "--provider", "mintcash"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["LOG_LEVEL": "error"]) { $1 }
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle(forWritingAtPath: err)
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(30)) }
        return (
            process.terminationStatus, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        )
    }

    @Test func everyRunKeepsItsOwnRowWithItsPathAndCounts() async throws {
        try await withMigratedPool { pool in
            let first = try export("payments.ndjson", count: 5)
            let renamed = exportDirectory() + "/payments-copy.ndjson"
            try FileManager.default.copyItem(atPath: first, toPath: renamed)

            _ = try await importFile(first, provider: .mintcash, into: pool.configuration)
            let again = try await importFile(renamed, provider: .mintcash, into: pool.configuration)
            #expect(again.alreadyComplete)
            _ = try await importFile(renamed, provider: .mintcash, into: pool.configuration) { $0.restart = true }

            let runs = try await pool.query(
                """
                SELECT concat_ws(' ', path, outcome, records, inserted, duplicates, rejected, (finished_at IS NOT NULL)::text)
                FROM analytics.backfills ORDER BY run_id
                """
            ).decodeColumn(String.self)
            let absolute = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
            #expect(
                runs == [
                    "\(absolute(first)) completed 5 5 0 0 true",
                    "\(absolute(renamed)) already_imported 0 0 0 0 true",
                    "\(absolute(renamed)) completed 5 0 5 0 true",
                ])
            #expect(try await pool.query("SELECT count(DISTINCT backfill_id) FROM analytics.backfills").decodeColumn(Int.self) == [1])
        }
    }

    @Test func theSummaryNamesARejectsFileOnlyWhenItIsThere() async throws {
        try await withMigratedPool { pool in
            let path = try export("payments.ndjson", count: 3, reject: true)
            let report = try await importFile(path, provider: .mintcash, into: pool.configuration)
            #expect(report.rejectsPath == path + ".rejects.ndjson")
            try FileManager.default.removeItem(atPath: path + ".rejects.ndjson")

            let again = try await importFile(path, provider: .mintcash, into: pool.configuration)
            #expect(again.alreadyComplete && again.counts.rejected == 1)
            #expect(again.rejectsPath == nil, "the operator removed it: the summary must not name it")

            let clean = try export("clean.ndjson", count: 3)
            #expect(try await importFile(clean, provider: .mintcash, into: pool.configuration).rejectsPath == nil)
            #expect(!FileManager.default.fileExists(atPath: clean + ".rejects.ndjson"))
        }
    }

    @Test func aCompletedFileRunAgainExitsZeroSayingItWasAlreadyImported() async throws {
        try await withMigratedPool { pool in
            let path = try export("payments.ndjson", count: 3, reject: true)
            let first = try await backfill([path], pool.configuration)
            #expect(first.status == 2, "a record was rejected: \(first.errors)")
            #expect(first.output.contains("rejects in \(path).rejects.ndjson"))

            let again = try await backfill([path], pool.configuration)
            #expect(again.status == 0, "\(again.output)\(again.errors)")
            #expect(again.output.contains("already imported"), "\(again.output)")
        }
    }

    @Test func progressSaysWhatIsTheWholeFileAndWhatIsThisRun() async throws {
        try await withMigratedPool { pool in
            let path = try export("payments.ndjson", count: 6)
            _ = try await importFile(path, provider: .mintcash, into: pool.configuration)
            // As if a run had been killed after its batch of 4 records committed.
            try await pool.query("UPDATE billing.backfill_files SET records_done = 4, inserted = 4, completed_at = NULL")

            let resumed = try await backfill([path], pool.configuration)
            #expect(resumed.status == 0, "\(resumed.errors)")
            let line = try #require(resumed.errors.split(separator: "\n").first { $0.hasPrefix("backfill payments.ndjson:") }, "\(resumed.errors)")
            #expect(line.contains("file 100.0% read"), "\(line)")
            #expect(line.contains("this run: 2 records (file: 6, resumed after 4)"), "\(line)")
            #expect(resumed.output.contains("resumed after record 4"))
        }
    }

    @Test func aWrapperWithANumericIDIsStoredByItsTimestampOrToldWhatIsMissing() async throws {
        let body = #"{"event_type":"customer.created","customer":{"id":"cust_1","external_id":"x"}}"#
        let path = exportDirectory() + "/flexprice.ndjson"
        try [
            #"{"id": 1001, "timestamp": 1780000000, "body": \#(body)}"#,
            #"{"id": 1002, "timestamp": "2026-05-01T10:00:00Z", "body": \#(body)}"#,
            #"{"timestamp": 1780000100,"id":1003,"body":\#(body)}"#,
            #"{"id": 1004, "body": \#(body)}"#,
        ].joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let report = try await importFile(path, provider: .flexprice, environment: .live, into: nil) { $0.dryRun = true }
        #expect(report.counts.read == 4 && report.counts.rejected == 1)
        let reject = try #require(report.sampleRejects.first)
        #expect(reject.line == 4 && reject.reason.code == .missingTime)
        // It is a wrapper already: the reason names what it lacks instead of asking to wrap it.
        #expect(reject.reason.message.contains("the wrapper has no timestamp"), "\(reject.reason.message)")
        #expect(reject.reason.message.contains("\"1004\""), "\(reject.reason.message)")
        #expect(!reject.reason.message.contains("wrap it as"), "\(reject.reason.message)")
    }

    @Test func aConcurrentRunIsReportedOnceAndDoesNothing() async throws {
        try await withMigratedPool { pool in
            let path = try export("payments.ndjson", count: 3)
            _ = try await importFile(path, provider: .mintcash, into: pool.configuration)
            let id = try await pool.query("SELECT id FROM billing.backfill_files").decodeColumn(Int64.self)[0]
            // Another run holds the file's lock.
            let holder = try await PostgresConnection.connect(pool.configuration, logger: TestDatabase.logger)
            try await holder.query("SELECT pg_advisory_lock(\(BackfillCheckpoint.lockSpace), \(Int32(truncatingIfNeeded: id)))")

            let second = try await backfill(["--restart", path], pool.configuration)
            await holder.close()
            #expect(second.status == 1)
            let message = "another backfill of this file is running"
            #expect(second.errors.components(separatedBy: message).count == 2, "said exactly once:\n\(second.errors)")
            #expect(!second.errors.contains("run the same command again to continue"), "nothing of this run to continue")
        }
    }
}
