/// Splits a URL query string into decoded (name, value) pairs, in order: `+` is a space, `%XX`
/// a byte, and the result must be UTF-8. Anything else is refused rather than guessed.
public enum QueryString {
    /// The pairs of `query` (without the `?`); empty pieces (`a=1&&b=2`) are skipped.
    public static func parse(_ query: String?) throws(QueryParameterError) -> [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        var pairs: [(name: String, value: String)] = []
        for piece in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = piece.firstIndex(of: UInt8(ascii: "="))
            let rawName = equals.map { piece[..<$0] } ?? piece[...]
            let rawValue = equals.map { piece[piece.index(after: $0)...] } ?? piece[piece.endIndex...]
            guard let name = decode(rawName) else {
                throw QueryParameterError(.invalidParameter, parameter: String(decoding: rawName, as: UTF8.self), "malformed percent-encoding")
            }
            guard let value = decode(rawValue) else { throw QueryParameterError(.invalidParameter, parameter: name, "malformed percent-encoding") }
            pairs.append((name, value))
        }
        return pairs
    }

    private static func decode(_ bytes: Substring.UTF8View.SubSequence) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let high = bytes.index(after: index)
                guard high < bytes.endIndex, bytes.index(after: high) < bytes.endIndex,
                    let h = Hex.value(ofDigit: bytes[high]), let l = Hex.value(ofDigit: bytes[bytes.index(after: high)])
                else { return nil }
                out.append(h << 4 | l)
                index = bytes.index(after: high)
            default:
                out.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(validating: out, as: UTF8.self)
    }
}
