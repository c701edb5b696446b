import Foundation

/// The creation time inside a Svix message id (`msg_` + a 27-character base62 KSUID).
///
/// Flexprice builds each payload when it creates the Svix message, and Svix re-sends that same
/// payload under the same id with a fresh `svix-timestamp`; so the KSUID time, not the header, says
/// how fresh the body's snapshot is. KSUID: 20 bytes, the first 4 are seconds since 1400000000.
public enum SvixMessageID {
    /// The time encoded in `id`, or nil when it is not a plausible KSUID-based id.
    public static func creationTime(_ id: String) -> Date? {
        let body = id.split(separator: "_").last.map(String.init) ?? id
        let characters = Array(body.utf8)
        guard characters.count == 27 else { return nil }
        // Base62 (0-9A-Za-z) into a 20-byte big-endian number, kept as 5 UInt32 limbs.
        var limbs = [UInt32](repeating: 0, count: 5)
        for character in characters {
            guard let digit = digitValue(character) else { return nil }
            var carry = UInt64(digit)
            for index in stride(from: 4, through: 0, by: -1) {
                let value = UInt64(limbs[index]) * 62 + carry
                limbs[index] = UInt32(truncatingIfNeeded: value)
                carry = value >> 32
            }
            guard carry == 0 else { return nil }
        }
        let seconds = TimeInterval(limbs[0]) + 1_400_000_000
        // Plausible only between 2015 and a day from now; anything else is not a KSUID.
        guard seconds > 1_420_070_400, seconds < Date().timeIntervalSince1970 + 86_400 else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    private static func digitValue(_ character: UInt8) -> UInt8? {
        switch character {
        case 48...57: character - 48
        case 65...90: character - 65 + 10
        case 97...122: character - 97 + 36
        default: nil
        }
    }
}
