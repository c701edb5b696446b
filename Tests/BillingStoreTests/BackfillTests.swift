import BillingCore
import Foundation
import Postgres
import PostgresServer
import TestSupport
import Testing

@testable import BillingStore

@Suite struct BackfillTests {
    @Test func hundredThousandRecordsOverlappingWebhooksAndRepeatingThemselvesAreStoredOnce() async throws {
        try await withMigratedPool { pool in
            var generator = HistoryGenerator(seed: 61)
            var history: [GeneratedDelivery] = []
            while history.count < 95_000 { history += generator.history(entities: 500) }
            history = Array(history.prefix(95_000))
            let export = try ExportedHistory(history, directory: exportDirectory()) { $0 % 2 == 0 }
            // 10% arrived by webhook before the import.
            let webhooked = export.lines.enumerated().filter { $0.offset % 10 == 3 }.map(\.element.delivery)
            try await storeAsWebhooks(webhooked, in: pool)
            // 5% of the file's lines repeat an earlier line.
            var lines = export.lines
            for index in 0..<5_000 {
                let position = 95_000 / 5_000 * index + generator.int(0...18)
                lines.insert(lines[generator.int(0...(position - 1 + index))], at: position + index)
            }
            try export.write(lines)

            let counts = try await export.importAll(into: pool.configuration)
            #expect(counts == BackfillCounts(read: 100_000, inserted: 85_500, duplicates: 14_500, snapshots: 0, rejected: 0))
            let stored = try await pool.query(
                """
                SELECT count(*), count(DISTINCT (provider, dedupe_key)), count(*) FILTER (WHERE channel = 'backfill'),
                       count(*) FILTER (WHERE channel = 'webhook'), count(DISTINCT body_sha256) FILTER (WHERE provider = 'flexprice'),
                       count(*) FILTER (WHERE provider = 'flexprice')
                FROM billing.events
                """
            ).rows[0].decode((Int, Int, Int, Int, Int, Int).self)
            #expect(stored == (95_000, 95_000, 85_500, 9_500, stored.5, stored.5))
            // The same files again (completed: skipped, reporting the first run's counts; then forced
            // through again) add nothing.
            let again = try await export.importAll(into: pool.configuration)
            #expect(again == counts)
            let forced = try await export.importAll(into: pool.configuration) { $0.restart = true }
            #expect(forced == BackfillCounts(read: 100_000, inserted: 0, duplicates: 100_000, snapshots: 0, rejected: 0))
            #expect(try await pool.query("SELECT count(*) FROM billing.events").decodeColumn(Int.self) == [95_000])
        }
    }

    @Test func gzipAndJSONArrayFilesImportTheSameEventsAsNDJSON() async throws {
        try await withMigratedPool { pool in
            var generator = HistoryGenerator(seed: 62)
            let history = generator.history(entities: 300).filter { $0.provider == "mintcash" }
            let directory = exportDirectory()
            let export = try ExportedHistory(history, directory: directory)
            try export.write(export.lines)
            let path = "\(directory)/mintcash.ndjson"
            let array = "[\n" + export.lines.map { "  " + $0.line }.joined(separator: ",\n") + "\n]\n"
            try array.write(toFile: "\(directory)/array.json", atomically: true, encoding: .utf8)
            #expect(try Subprocess.run(["/bin/gzip", "-k", "\(directory)/array.json"]).status == 0)
            #expect(try Subprocess.run(["/bin/sh", "-c", "gzip -c \(path) > \(path).gz"]).status == 0)

            let fromArray = try await importFile("\(directory)/array.json.gz", provider: .mintcash, into: pool.configuration)
            #expect(
                fromArray.counts
                    == BackfillCounts(read: Int64(history.count), inserted: Int64(history.count), duplicates: 0, snapshots: 0, rejected: 0))
            let arrayRows = try await eventRows(pool)
            for file in [path, path + ".gz"] {
                let report = try await importFile(file, provider: .mintcash, into: pool.configuration)
                #expect(
                    report.counts
                        == BackfillCounts(read: Int64(history.count), inserted: 0, duplicates: Int64(history.count), snapshots: 0, rejected: 0))
            }
            #expect(try await eventRows(pool) == arrayRows)
            // The bodies are stored byte for byte as the export holds them.
            let bodies = try await pool.query("SELECT convert_from(raw_body, 'UTF8') FROM billing.events ORDER BY source")
                .decodeColumn(String.self)
            #expect(Set(bodies) == Set(history.map(\.body)))
        }
    }

    @Test func aWrapperLineMeetsTheWebhookOfTheSameSvixID() async throws {
        try await withMigratedPool { pool in
            let body = ProviderFixtures.flexpriceWalletAlert
            let webhook = IncomingDelivery(
                provider: .flexprice, environment: .live, environmentIsExplicit: true, body: Array(body.utf8), deliveryID: "msg_live_1",
                deliveryTimestamp: Date(timeIntervalSince1970: 1_780_000_000))
            try await storeAsWebhooks([webhook], in: pool)
            // The export re-serialized the body (other bytes), but kept the delivery id.
            let reformatted = body.replacingOccurrences(of: "\",\"", with: "\", \"")
            #expect(reformatted != body)
            let directory = exportDirectory()
            let lines = [
                #"{"id":"msg_live_1","timestamp":1780000000,"body":\#(reformatted)}"#,
                #"{"id":"msg_live_1","timestamp":"2026-05-28T12:26:40Z","headers":{"svix-signature":"v1,x"},"body":\#(JSONValue.string(body).jsonText)}"#,
                #"{"id":"msg_resent_2","timestamp":1780000500,"body":\#(JSONValue.string(body).jsonText)}"#,
            ]
            try lines.joined(separator: "\n").write(toFile: "\(directory)/svix.ndjson", atomically: true, encoding: .utf8)
            let report = try await importFile("\(directory)/svix.ndjson", provider: .flexprice, environment: .live, into: pool.configuration)
            // Same svix-id twice, then the identical body under a new svix-id (a Flexprice re-send).
            #expect(report.counts == BackfillCounts(read: 3, inserted: 0, duplicates: 3, snapshots: 0, rejected: 0))
            #expect(try await pool.query("SELECT channel FROM billing.events").decodeColumn(String.self) == ["webhook"])
        }
    }
}
