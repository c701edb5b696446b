/// One CSV record (RFC 4180): fields separated by commas, a field in double quotes may hold
/// commas, line breaks and doubled quotes.
public enum CSVRecord {
    /// The fields of `bytes` (one record, line breaks inside quotes allowed).
    public static func fields(_ bytes: ArraySlice<UInt8>) throws(QuarantineReason) -> [String] {
        var fields: [String] = []
        var field: [UInt8] = []
        var index = bytes.startIndex
        var quoted = false
        var afterQuote = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.endIndex, bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: ",") {
                fields.append(try text(field, fields.count))
                field.removeAll(keepingCapacity: true)
                afterQuote = false
            } else if afterQuote {
                throw QuarantineReason(.invalidCSV, "field \(fields.count + 1) has text after its closing quote")
            } else if byte == UInt8(ascii: "\""), field.isEmpty {
                quoted = true
            } else {
                field.append(byte)
            }
            index += 1
        }
        if quoted { throw QuarantineReason(.invalidCSV, "field \(fields.count + 1) has no closing quote") }
        fields.append(try text(field, fields.count))
        return fields
    }

    private static func text(_ bytes: [UInt8], _ index: Int) throws(QuarantineReason) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw QuarantineReason(.invalidCSV, "field \(index + 1) is not UTF-8")
        }
        return text
    }

    /// The record as a JSON object keyed by `header`: empty fields are left out (absent, as in the
    /// list API's JSON), fields holding a JSON object or array (metadata) are embedded as JSON, every
    /// other field stays a string (amounts stay exact decimal text).
    static func object(header: [String], fields: [String]) throws(QuarantineReason) -> [UInt8] {
        guard fields.count == header.count else {
            throw QuarantineReason(.invalidCSV, "the record has \(fields.count) fields, the header \(header.count)")
        }
        var members: [(key: String, value: JSONValue)] = []
        for (name, field) in zip(header, fields) where !field.isEmpty {
            if field.first == "{" || field.first == "[", let nested = try? JSONParser.parse(Array(field.utf8)) {
                members.append((name, nested))
            } else {
                members.append((name, .string(field)))
            }
        }
        return Array(JSONValue.object(members).jsonText.utf8)
    }
}
