/// The top-level members of a JSON object as byte ranges of their values, found without parsing
/// the values: a backfill wrapper's `body` must keep its exact bytes, and the body is parsed once,
/// by the normalizer.
enum JSONMembers {
    /// The members in order, or nil when `bytes` is not one well-formed-looking JSON object.
    /// Values are only skipped here; whether they are valid JSON is for their parser to say.
    static func scan(_ bytes: [UInt8]) -> [(key: String, value: Range<Int>)]? {
        bytes.withUnsafeBufferPointer { buffer in
            var index = skipBlank(buffer, 0)
            guard index < buffer.count, buffer[index] == UInt8(ascii: "{") else { return nil }
            var members: [(key: String, value: Range<Int>)] = []
            index = skipBlank(buffer, index + 1)
            if index < buffer.count, buffer[index] == UInt8(ascii: "}") {
                return skipBlank(buffer, index + 1) == buffer.count ? members : nil
            }
            while true {
                guard index < buffer.count, buffer[index] == UInt8(ascii: "\""), let keyEnd = stringEnd(buffer, index) else { return nil }
                guard let key = keyText(bytes, index..<keyEnd) else { return nil }
                index = skipBlank(buffer, keyEnd)
                guard index < buffer.count, buffer[index] == UInt8(ascii: ":") else { return nil }
                let start = skipBlank(buffer, index + 1)
                guard let end = valueEnd(buffer, start) else { return nil }
                members.append((key, start..<end))
                index = skipBlank(buffer, end)
                guard index < buffer.count else { return nil }
                if buffer[index] == UInt8(ascii: "}") { return skipBlank(buffer, index + 1) == buffer.count ? members : nil }
                guard buffer[index] == UInt8(ascii: ",") else { return nil }
                index = skipBlank(buffer, index + 1)
            }
        }
    }

    private static func skipBlank(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var index = start
        while index < buffer.count, buffer[index] == 32 || buffer[index] == 9 || buffer[index] == 10 || buffer[index] == 13 { index += 1 }
        return index
    }

    /// The index after the closing quote of the string opening at `start`.
    private static func stringEnd(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        var index = start + 1
        while index < buffer.count {
            switch buffer[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    /// The index after the value starting at `start`.
    private static func valueEnd(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        guard start < buffer.count else { return nil }
        switch buffer[start] {
        case UInt8(ascii: "\""):
            return stringEnd(buffer, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < buffer.count {
                switch buffer[index] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(buffer, index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default: break
                }
                index += 1
            }
            return nil
        default:
            var index = start
            while index < buffer.count {
                let byte = buffer[index]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == 32 || byte == 9 || byte == 10 || byte == 13 { break }
                index += 1
            }
            return index > start ? index : nil
        }
    }

    /// A key's text (escapes decoded by the JSON parser when there are any).
    private static func keyText(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        let slice = bytes[range]
        guard slice.contains(UInt8(ascii: "\\")) else { return String(validating: slice.dropFirst().dropLast(), as: UTF8.self) }
        return (try? JSONParser.parse(Array(slice)))?.stringValue
    }
}
