import BillingCore
import Testing

@Suite struct BackfillSplitterTests {
    /// Splits `text` fed in pieces of `piece` bytes, as the reader does, and returns each record's
    /// text and line.
    private func split(_ text: String, _ format: BackfillFormat, piece: Int) throws(BackfillFileError) -> [(String, Int)] {
        var splitter = BackfillSplitter(format: format)
        let input = Array(text.utf8)
        var buffer: [UInt8] = []
        var records: [(String, Int)] = []
        var offset = 0
        repeat {
            let end = min(offset + piece, input.count)
            buffer += input[offset..<end]
            offset = end
            for span in splitter.split(buffer, isEnd: offset == input.count) {
                records.append((String(decoding: buffer[span.range], as: UTF8.self), span.line))
            }
            let consumed = splitter.consumed
            buffer.removeFirst(consumed)
            splitter.discard(consumed)
        } while offset < input.count && splitter.failure == nil
        if let failure = splitter.failure { throw failure }
        return records
    }

    @Test(arguments: [1, 2, 7, 4096])
    func ndjsonLinesKeepTheirNumbersAcrossPieces(piece: Int) throws {
        let text = "{\"a\":1}\n\n  {\"b\":2}\r\n\t\n{\"c\":\"x\\ny\"}"
        let records = try split(text, .ndjson, piece: piece)
        #expect(records.map(\.0) == ["{\"a\":1}", "{\"b\":2}", "{\"c\":\"x\\ny\"}"])
        #expect(records.map(\.1) == [1, 3, 5])
    }

    @Test(arguments: [1, 3, 4096])
    func arrayElementsAreFoundWhateverTheirLayout(piece: Int) throws {
        let text = """
            [
              {"a": "]}\\"[{", "n": [1, {"m": 2}]},
              {"b": 2}, 17 ,"s",
              {
                "c": 3
              }
            ]

            """
        let records = try split(text, .json, piece: piece)
        #expect(records.map(\.0) == [#"{"a": "]}\"[{", "n": [1, {"m": 2}]}"#, #"{"b": 2}"#, "17", #""s""#, "{\n    \"c\": 3\n  }"])
        #expect(records.map(\.1) == [2, 3, 3, 3, 4])
        #expect(try split("[]", .json, piece: piece).isEmpty)
    }

    @Test func brokenArraysStopWithTheirLine() {
        #expect(throws: BackfillFileError("the JSON array is not closed", line: 2)) { try split("[{\"a\":1},\n{\"b\":", .json, piece: 4) }
        #expect(throws: BackfillFileError("expected , or ] after an array element", line: 2)) { try split("[{\"a\":1}\n{\"b\":2}]", .json, piece: 4) }
        #expect(throws: BackfillFileError("text after the end of the JSON array", line: 3)) { try split("[1]\n\nx", .json, piece: 4) }
        #expect(throws: BackfillFileError("an array element is missing", line: 1)) { try split("[1,]", .json, piece: 4) }
        #expect(throws: BackfillFileError("the file does not start with a JSON array", line: 1)) { try split("{\"a\":1}", .json, piece: 4) }
    }

    @Test(arguments: [1, 5, 4096])
    func csvRecordsMayHoldLineBreaksInQuotes(piece: Int) throws {
        let text = "id,note\r\n1,\"two\nlines, and \"\"quotes\"\"\"\r\n\r\n2,plain\n"
        let records = try split(text, .csv, piece: piece)
        #expect(records.map(\.0) == ["id,note", "1,\"two\nlines, and \"\"quotes\"\"\"", "2,plain"])
        #expect(records.map(\.1) == [1, 2, 5])
        #expect(throws: BackfillFileError("a quoted CSV field is never closed", line: 2)) { try split("id\n\"open\n", .csv, piece: piece) }
    }

    @Test func formatsFollowTheNameThenTheContent() {
        #expect(BackfillFormat.named(byPath: "a.NDJSON.gz") == .ndjson)
        #expect(BackfillFormat.named(byPath: "export.jsonl") == .ndjson)
        #expect(BackfillFormat.named(byPath: "wallets.csv.gz") == .csv)
        #expect(BackfillFormat.named(byPath: "events.json") == nil)
        #expect(BackfillFormat.sniffed(firstByte: UInt8(ascii: "[")) == .json)
        #expect(BackfillFormat.sniffed(firstByte: UInt8(ascii: "{")) == .ndjson)
    }
}
