import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct CopyTests {
    @Test func copiesOneHundredThousandRowsWithNonASCIIText() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE items (id int8 PRIMARY KEY, label text, note text, amount numeric)")
            var expectedBytes = 0
            let copied = try await connection.copyIn("COPY \(identifier: "items") (id, label, note, amount) FROM STDIN") { writer in
                for id in 1...100_000 {
                    let label = "Zoë №\(id) 日本 🧾"
                    let note: String? = id % 10 == 0 ? nil : "tab\there\\new\nline"
                    try await writer.writeRow([String(id), label, note, "\(id).99"])
                }
                expectedBytes = writer.bytesWritten
            }
            #expect(copied == 100_000)
            #expect(expectedBytes > 100_000 * 20)
            let row = try await connection.query(
                "SELECT count(*), count(note), sum(length(label)), sum(amount) FROM items"
            ).first!
            let (count, notes, characters, sum) = try row.decode((Int, Int, Int, Decimal).self)
            #expect(count == 100_000)
            #expect(notes == 90_000)
            let expectedCharacters = (1...100_000).reduce(0) { $0 + "Zoë №\($1) 日本 🧾".unicodeScalars.count }
            #expect(characters == expectedCharacters)
            #expect(sum == Decimal(string: "5000149000")!)
            let sample = try await connection.query("SELECT label, note FROM items WHERE id = \(77)").first!
            let (label, note) = try sample.decode((String, String?).self)
            #expect(label == "Zoë №77 日本 🧾")
            #expect(note == "tab\there\\new\nline")
            await connection.close()
        }
    }

    @Test func serverErrorsSurfaceWhenTheCopyEnds() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE items (id int8 PRIMARY KEY)")
            let error = await #expect(throws: PostgresError.self) {
                try await connection.copyIn("COPY items (id) FROM STDIN") { writer in
                    for id in [1, 2, 3, 2] { try await writer.writeRow([String(id)]) }
                }
            }
            #expect(error?.code == .uniqueViolation)
            #expect(error?.constraint == "items_pkey")
            #expect(try await connection.query("SELECT count(*) FROM items").first?.decode(Int.self, at: 0) == 0)
            #expect(await connection.isReusable)
            await connection.close()
        }
    }

    @Test func aThrowingWriterAbortsTheCopy() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let connection = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await connection.query("CREATE TABLE items (id int8)")
            struct SourceFailed: Error {}
            await #expect(throws: SourceFailed.self) {
                try await connection.copyIn("COPY items (id) FROM STDIN") { writer in
                    for id in 1...1000 { try await writer.writeRow([String(id)]) }
                    throw SourceFailed()
                }
            }
            #expect(try await connection.query("SELECT count(*) FROM items").first?.decode(Int.self, at: 0) == 0)
            #expect(await connection.isReusable)
            await #expect(throws: PostgresError.self) {
                try await connection.copyIn("SELECT 1") { _ in }
            }
            await connection.close()
        }
    }
}
