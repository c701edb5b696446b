import BillingCore
import Foundation
import Postgres
import TestSupport
import Testing

@testable import BillingStore

@Suite struct BackfillRejectsTests {
    /// The rejects file's entries as `line code`.
    private func rejects(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let value = try JSONParser.parse(Array(line.utf8))
            return "\(value["line"]!.numberText!) \(value["code"]!.stringValue!)"
        }
    }

    private let payment =
        #"{"eventId":"e1","event":"payment.succeeded","type":"payment","environment":"live","createdAt":"2026-05-22T14:32:08.412Z","data":{"id":"pmt_1","amount":"49.99","currency":"USD"}}"#

    @Test func malformedRecordsAreWrittenToTheRejectsFileWithTheirLineAndReason() async throws {
        try await withMigratedPool { pool in
            let directory = exportDirectory()
            let lines = [
                payment,  // 1
                "",  // 2
                "{not json",  // 3
                payment.replacingOccurrences(of: "e1", with: "e2") + "\r",  // 4
                "[1, 2]",  // 5
                payment.replacingOccurrences(of: "e1", with: "e3").replacingOccurrences(of: "payment.succeeded", with: "payment.teleported"),  // 6
                payment.replacingOccurrences(of: "e1", with: "e4").replacingOccurrences(of: "\"live\"", with: "\"test\""),  // 7
                #"{"id":"w","body":42}"#,  // 8
                payment,  // 9: a repeat, not a reject
                payment.replacingOccurrences(of: "\"49.99\"", with: "\"4x\""),  // 10
            ]
            let path = "\(directory)/mintcash.ndjson"
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)

            let dry = try await importFile(path, provider: .mintcash, environment: .live, into: nil) { $0.dryRun = true }
            #expect(dry.counts == BackfillCounts(read: 9, inserted: 0, duplicates: 0, snapshots: 0, rejected: 6))
            #expect(dry.sampleRejects.map(\.line) == [3, 5, 6, 7, 8, 10])
            #expect(dry.rejectsPath == nil && !FileManager.default.fileExists(atPath: path + ".rejects.ndjson"))
            #expect(
                try await pool.query("SELECT (SELECT count(*) FROM billing.events) + (SELECT count(*) FROM billing.backfill_files)").decodeColumn(
                    Int.self) == [0])

            let report = try await importFile(path, provider: .mintcash, environment: .live, into: pool.configuration)
            #expect(report.counts == BackfillCounts(read: 9, inserted: 2, duplicates: 1, snapshots: 0, rejected: 6))
            #expect(report.rejectsPath == path + ".rejects.ndjson")
            #expect(
                try rejects(path + ".rejects.ndjson") == [
                    "3 not_json", "5 not_object", "6 unknown_type", "7 environment_mismatch", "8 invalid_wrapper", "10 invalid_field",
                ])
            let first = try JSONParser.parse(
                Array(try String(contentsOfFile: path + ".rejects.ndjson", encoding: .utf8).split(separator: "\n")[0].utf8))
            #expect(first["record"]?.stringValue == "{not json")
            #expect(first["reason"]?.stringValue?.hasPrefix("the body is not JSON") == true)
        }
    }

    @Test func rejectsInArraysAndCSVNameTheLineTheRecordStartsOn() async throws {
        try await withMigratedPool { pool in
            let directory = exportDirectory()
            let array = """
                [
                  \(payment),
                  {
                    "eventId": "e9",
                    "event": "payment.succeeded"
                  },
                  "text",
                  \(payment.replacingOccurrences(of: "e1", with: "e5"))
                ]
                """
            try array.write(toFile: "\(directory)/events.json", atomically: true, encoding: .utf8)
            let report = try await importFile("\(directory)/events.json", provider: .mintcash, into: pool.configuration)
            #expect(report.counts == BackfillCounts(read: 4, inserted: 2, duplicates: 0, snapshots: 0, rejected: 2))
            #expect(try rejects("\(directory)/events.json.rejects.ndjson") == ["3 missing_field", "7 not_object"])

            let csv =
                "id,name,updated_at\ncust_1,\"Two\nLines\",2026-05-01T00:00:00Z\ncust_2,Short\ncust_3,Ok,2026-05-01T00:00:00Z\ncust_4,No time,\n"
            try csv.write(toFile: "\(directory)/customers.csv", atomically: true, encoding: .utf8)
            let customers = try await importFile(
                "\(directory)/customers.csv", provider: .flexprice, environment: .test, entity: .customers, into: pool.configuration)
            #expect(customers.counts == BackfillCounts(read: 4, inserted: 2, duplicates: 0, snapshots: 2, rejected: 2))
            #expect(try rejects("\(directory)/customers.csv.rejects.ndjson") == ["4 invalid_csv", "6 missing_time"])
        }
    }

    @Test func aBrokenFileStopsTheImportKeepingWhatWasCommitted() async throws {
        try await withMigratedPool { pool in
            let directory = exportDirectory()
            let records = (1...1_200).map { payment.replacingOccurrences(of: "\"e1\"", with: "\"e\($0)\"") }
            try ("[" + records.joined(separator: ",\n") + ",\n{\"eventId\": ").write(
                toFile: "\(directory)/cut.json", atomically: true, encoding: .utf8)
            await #expect(throws: BackfillFileError("the JSON array is not closed", line: 1_201)) {
                _ = try await importFile("\(directory)/cut.json", provider: .mintcash, into: pool.configuration)
            }
            // Every record before the break is committed; the file is not marked complete.
            #expect(try await pool.query("SELECT count(*) FROM billing.events").decodeColumn(Int.self) == [1_200])
            #expect(
                try await pool.query("SELECT records_done::text || ' ' || (completed_at IS NULL)::text FROM billing.backfill_files")
                    .decodeColumn(String.self) == ["1200 true"])
            try Data([0x1F, 0x8B, 0x08, 0x00, 0x01, 0x02]).write(to: URL(fileURLWithPath: "\(directory)/corrupt.ndjson.gz"))
            await #expect(throws: BackfillError.self) {
                _ = try await importFile("\(directory)/corrupt.ndjson.gz", provider: .mintcash, into: pool.configuration)
            }
        }
    }
}
