import BillingCore
import Testing

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func numbersKeepTheirExactText() throws {
        let value = try parse(#"{"a": 49.99, "b": 0.1, "c": 1e-2, "d": 123456789012345678901234567890.123456789, "e": -0, "f": 25}"#)
        #expect(value["a"]?.numberText == "49.99")
        #expect(value["b"]?.numberText == "0.1")
        #expect(value["c"]?.numberText == "1e-2")
        #expect(value["d"]?.numberText == "123456789012345678901234567890.123456789")
        #expect(value["e"]?.numberText == "-0")
        #expect(value["f"]?.numberText == "25")
    }

    @Test func aLeadingByteOrderMarkIsSkippedAndNowhereElse() throws {
        let marked = JSONParser.byteOrderMark + Array(#"{"a": 1}"#.utf8)
        #expect(try JSONParser.parse(marked)["a"]?.numberText == "1")
        #expect(throws: JSONParseError.self) { try JSONParser.parse(JSONParser.byteOrderMark) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(JSONParser.byteOrderMark + JSONParser.byteOrderMark + Array("1".utf8)) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(#"{"a": 1}"#.utf8) + JSONParser.byteOrderMark) }
    }

    @Test func stringsEscapesAndUnicode() throws {
        let value = try parse(#"{"s": "Zoë \"q\" \\ \/ \n \u00e9 \ud83e\uddfe 日本"}"#)
        #expect(value["s"]?.stringValue == "Zoë \"q\" \\ / \n é 🧾 日本")
    }

    @Test func nestedPathsAndRepeatedKeys() throws {
        let value = try parse(#"{"data": {"object": {"id": "fax_1", "tags": [1, true, null]}}, "k": 1, "k": 2}"#)
        #expect(value["data", "object", "id"]?.stringValue == "fax_1")
        #expect(value["data", "object", "tags"] == .array([.number("1"), .bool(true), .null]))
        #expect(value["k"]?.numberText == "2")
        #expect(value["missing", "deeper"] == nil)
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity",
        "\"unterminated", "\"bad \\x escape\"", "\"\\ud83e\"", "tru", "nul", "{} {}", "\"tab\there\"", "[1 2]",
    ])
    func malformedDocumentsAreRefused(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        // The same after an escape (strings with escapes are decoded on a slower path).
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x5C, 0x6E, 0x0A, 0x22]) }
    }

    @Test func escapesAnywhereInAString() throws {
        #expect(try parse(#""\"""#) == .string("\""))
        #expect(try parse(#""a\u0000b""#) == .string("a\u{0}b"))
        #expect(try parse(#""\ud83e\uddfe€\t""#) == .string("🧾€\t"))
        #expect(try parse(#""plain ü""#) == .string("plain ü"))
    }

    @Test func deepNestingIsRefusedNotCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(deep.utf8)) }
        #expect(error?.message.contains("nesting") == true)
        let allowed = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONParser.parse(Array(allowed.utf8)) }
    }
}

@Suite struct DecimalAmountTests {
    @Test(arguments: [
        ("49.99", "49.99"), ("0.1", "0.1"), ("1e-2", "0.01"), ("1E+2", "100"), ("100", "100"), ("49.990", "49.99"),
        ("-0.00", "0"), ("+5", "5"), ("0", "0"), ("-12.5e1", "-125"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
        ("1234567890.12345678901234567891", "1234567890.12345678901234567891"),
    ])
    func parsesExactly(text: String, expected: String) throws {
        #expect(try #require(DecimalAmount(text)).description == expected)
    }

    @Test(arguments: ["", "-", ".", "1.", "abc", "NaN", "Infinity", "1e", "1e99999", "0x10", "1,5", " 1", "1 "])
    func refusesWhatIsNotADecimal(text: String) {
        #expect(DecimalAmount(text) == nil)
    }

    @Test func minorUnitsShiftToMajor() throws {
        #expect(try #require(DecimalAmount("4550")).shifted(by: 2).description == "45.5")
        #expect(try #require(DecimalAmount("5")).shifted(by: 2).description == "0.05")
        #expect(try #require(DecimalAmount("0")).shifted(by: 2).description == "0")
        #expect(try #require(DecimalAmount("1000")).shifted(by: 0).description == "1000")
        #expect(try #require(DecimalAmount("4550")).shifted(by: 2).formatted(minimumScale: 2) == "45.50")
        #expect(try #require(DecimalAmount("7")).formatted(minimumScale: 2) == "7.00")
        #expect(try #require(DecimalAmount("0.125")).formatted(minimumScale: 2) == "0.125")
    }
}
