import Foundation

extension UUID {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The lower-case canonical text PostgreSQL prints (`8-4-4-4-12` hex digits). Formatted by
    /// hand: Foundation's `uuidString` goes through `printf`, which showed up in projection profiles.
    public var postgresText: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var index = 0
                for (offset, byte) in bytes.enumerated() {
                    if offset == 4 || offset == 6 || offset == 8 || offset == 10 {
                        out[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    out[index] = Self.hexDigits[Int(byte >> 4)]
                    out[index + 1] = Self.hexDigits[Int(byte & 0x0F)]
                    index += 2
                }
                return index
            }
        }
    }

    /// Parses the canonical `8-4-4-4-12` form in either case (what PostgreSQL sends for `uuid`).
    public init?(postgresText text: String) {
        var text = text
        let parsed = text.withUTF8 { chars -> uuid_t? in
            guard chars.count == 36 else { return nil }
            var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let complete = withUnsafeMutableBytes(of: &uuid) { bytes -> Bool in
                var index = 0
                for position in 0..<16 {
                    if index == 8 || index == 13 || index == 18 || index == 23 {
                        guard chars[index] == UInt8(ascii: "-") else { return false }
                        index += 1
                    }
                    guard let high = PostgresHex.value(ofDigit: chars[index]), let low = PostgresHex.value(ofDigit: chars[index + 1]) else {
                        return false
                    }
                    bytes[position] = high << 4 | low
                    index += 2
                }
                return true
            }
            return complete ? uuid : nil
        }
        guard let parsed else { return nil }
        self.init(uuid: parsed)
    }
}
