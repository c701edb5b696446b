/// The two base64 alphabets of RFC 4648: standard (§4, `+` and `/`: webhook secrets) and
/// URL-safe (§5, `-` and `_`: tokens and cursors, ``Base64URL``).
enum Base64Alphabet {
    case standard, urlSafe

    /// The 6-bit value of `byte` in this alphabet, or nil when it is not one of its 64 characters.
    func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+") where self == .standard, UInt8(ascii: "-") where self == .urlSafe: 62
        case UInt8(ascii: "/") where self == .standard, UInt8(ascii: "_") where self == .urlSafe: 63
        default: nil
        }
    }
}
