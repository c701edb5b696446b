import Foundation
import Postgres
import TestSupport
import Testing

/// Values sent as parameters come back exactly, through the server's own type conversions.
@Suite struct TypeRoundTripTests {
    private func withConnection(_ body: (PostgresConnection) async throws -> Void) async throws {
        let connection = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        try await body(connection)
        await connection.close()
    }

    @Test(arguments: ["0.1", "49.99", "-0.01", "0", "123456789012345678901234567890", "1234567890.12345678901234567891", "100"])
    func numericIsExact(text: String) async throws {
        try await withConnection { connection in
            let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))!
            let row = try await connection.query("SELECT \(value)::numeric, \(value)::numeric::text, \(text)::numeric").first!
            let (decoded, serverText, parsed) = try row.decode((Decimal, String, Decimal).self)
            #expect(decoded == value)
            #expect(serverText == text)
            #expect(parsed == value)
        }
    }

    @Test func numericThatDecimalCannotHoldIsAnError() async throws {
        try await withConnection { connection in
            let row = try await connection.query("SELECT 1e60::numeric + 0.000000000000000001 AS huge").first!
            #expect(throws: PostgresDecodingError.self) { try row.decode("huge", as: Decimal.self) }
            #expect(try row.decode("huge", as: String.self).hasPrefix("1000000"))
        }
    }

    @Test func integersAndBooleans() async throws {
        try await withConnection { connection in
            let row = try await connection.query(
                "SELECT \(Int64.max), \(Int32.min), \(Int16(-7)), \(true), \(false), \(Int.min)"
            ).first!
            let values = try row.decode((Int64, Int32, Int16, Bool, Bool, Int).self)
            #expect(values.0 == .max && values.1 == .min && values.2 == -7 && values.3 && !values.4 && values.5 == .min)
            let overflow = try await connection.query("SELECT 40000::int4 AS big").first!
            #expect(throws: PostgresDecodingError.self) { try overflow.decode("big", as: Int16.self) }
        }
    }

    @Test(arguments: ["", "plain", "Zoë Ünïcødé — 日本語 🧾💶", "tab\tnew\nline\\back\"quote'", String(repeating: "é", count: 100_000)])
    func stringsKeepEveryCharacter(text: String) async throws {
        try await withConnection { connection in
            let row = try await connection.query("SELECT \(text)::text, length(\(text)::text)").first!
            let (back, length) = try row.decode((String, Int).self)
            #expect(back == text)
            #expect(length == text.unicodeScalars.count)
        }
    }

    @Test func nulBytesInTextAreRefusedNotTruncated() async throws {
        try await withConnection { connection in
            await #expect(throws: PostgresError.self) { try await connection.query("SELECT \("a\u{0}b")::text") }
            let after = try await connection.query("SELECT 1").first?.decode(Int.self, at: 0)
            #expect(after == 1)
        }
    }

    @Test func timestampsKeepMicroseconds() async throws {
        try await withConnection { connection in
            let date = Date(timeIntervalSince1970: 1_795_243_092.123456)
            let row = try await connection.query(
                "SELECT \(date), \(date)::text, extract(microseconds FROM \(date)::timestamptz)::int8, '2026-03-31 23:59:59.999999+02'::timestamptz"
            ).first!
            let (back, text, micros, offset) = try row.decode((Date, String, Int64, Date).self)
            #expect(Int64((back.timeIntervalSince1970 * 1_000_000).rounded()) == 1_795_243_092_123_456)
            #expect(text == "2026-11-21 06:38:12.123456+00")
            #expect(micros == 12_123_456)
            #expect(Int64((offset.timeIntervalSince1970 * 1_000_000).rounded()) == 1_774_994_399_999_999)
            let infinite = try await connection.query("SELECT 'infinity'::timestamptz AS at").first!
            #expect(throws: PostgresDecodingError.self) { try infinite.decode("at", as: Date.self) }
        }
    }

    @Test func uuidsBytesAndJSON() async throws {
        try await withConnection { connection in
            let id = UUID()
            let bytes = Data((0...255).map { UInt8($0) } + [0, 0])
            let json = PostgresJSONB(#"{"amount": 49.99, "name": "Zoë", "nested": [1, {"a": null}]}"#)
            let row = try await connection.query("SELECT \(id), \(bytes), \(json), \(json)->>'amount'").first!
            let (backID, backBytes, backJSON, amount) = try row.decode((UUID, Data, PostgresJSONB, String).self)
            #expect(backID == id)
            #expect(backBytes == bytes)
            #expect(backJSON.text == #"{"name": "Zoë", "amount": 49.99, "nested": [1, {"a": null}]}"#)
            #expect(amount == "49.99")
        }
    }

    @Test func textArrays() async throws {
        try await withConnection { connection in
            let values: [String?] = ["a,b", "quo\"te", nil, "", "NULL", "ünï {x}"]
            let row = try await connection.query("SELECT \(values), cardinality(\(values)), ARRAY['x','y']").first!
            let (back, count, literal) = try row.decode(([String?], Int, [String]).self)
            #expect(back == values)
            #expect(count == 6)
            #expect(literal == ["x", "y"])
            let withNull = try await connection.query("SELECT ARRAY['x', NULL] AS a").first!
            #expect(throws: PostgresDecodingError.self) { try withNull.decode("a", as: [String].self) }
        }
    }

    @Test func nullsDecodeAsOptionalOnly() async throws {
        try await withConnection { connection in
            let row = try await connection.query("SELECT NULL::int8 AS missing, NULL::text AS nothing").first!
            #expect(try row.decode("missing", as: Int?.self) == nil)
            #expect(try row.decode("nothing", as: String?.self) == nil)
            let error = #expect(throws: PostgresDecodingError.self) { try row.decode("missing", as: Int.self) }
            #expect(error?.column == "missing")
            #expect(error?.description.contains("NULL") == true)
        }
    }

    @Test func mismatchNamesTheColumnAndTypes() async throws {
        try await withConnection { connection in
            let row = try await connection.query("SELECT 'x'::text AS label, now() AS at").first!
            let error = #expect(throws: PostgresDecodingError.self) { try row.decode("label", as: Int.self) }
            #expect(error?.column == "label")
            #expect(error?.postgresType == .text)
            #expect(error?.description.contains("\"label\"") == true)
            #expect(throws: PostgresDecodingError.self) { try row.decode("nope", as: Int.self) }
            #expect(throws: PostgresDecodingError.self) { try row.decode((String, Date, Int).self) }
        }
    }
}
