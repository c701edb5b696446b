/// An exact decimal amount parsed from text: JSON number tokens (`49.99`, `1e-2`), decimal strings
/// (`"49.99"`) and integer minor units (mintfax cents). No binary floating point is involved.
public struct DecimalAmount: Sendable, Hashable, CustomStringConvertible {
    /// True for amounts below zero.
    public let negative: Bool
    /// The significant digits, without leading zeros ("" for zero).
    public let digits: String
    /// Power of ten applied to `digits`: value = digits × 10^exponent.
    public let exponent: Int

    /// Parses the JSON number grammar (optionally with a leading `+`, as some APIs write).
    /// Refuses `NaN`, `Infinity`, hex, empty text and exponents beyond ±1000.
    public init?(_ text: some StringProtocol) {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var integer: [UInt8] = []
        while let byte = bytes.first, byte >= 48, byte <= 57 {
            integer.append(byte)
            bytes = bytes.dropFirst()
        }
        var fraction: [UInt8] = []
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            while let byte = bytes.first, byte >= 48, byte <= 57 {
                fraction.append(byte)
                bytes = bytes.dropFirst()
            }
            guard !fraction.isEmpty else { return nil }
        }
        guard !integer.isEmpty || !fraction.isEmpty else { return nil }
        var exponent = 0
        if let byte = bytes.first, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            var exponentNegative = false
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                exponentNegative = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            guard !bytes.isEmpty, bytes.count <= 4, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            exponent = Int(String(decoding: bytes, as: UTF8.self))! * (exponentNegative ? -1 : 1)
            bytes = []
        }
        guard bytes.isEmpty, abs(exponent) <= 1000 else { return nil }
        var significant = String(decoding: integer + fraction, as: UTF8.self)
        exponent -= fraction.count
        // Canonical form: no leading zeros, no trailing zeros (they move into the exponent).
        while significant.first == "0" { significant.removeFirst() }
        while significant.last == "0" {
            significant.removeLast()
            exponent += 1
        }
        self.negative = negative && !significant.isEmpty
        self.digits = significant
        self.exponent = significant.isEmpty ? 0 : exponent
    }

    private init(negative: Bool, digits: String, exponent: Int) {
        self.negative = negative
        self.digits = digits
        self.exponent = exponent
    }

    /// The amount divided by 10^places: minor units to major (`4550` cents → `45.50`).
    public func shifted(by places: Int) -> DecimalAmount {
        digits.isEmpty ? self : DecimalAmount(negative: negative, digits: digits, exponent: exponent - places)
    }

    /// True for zero.
    public var isZero: Bool { digits.isEmpty }

    /// Plain decimal notation without exponent or superfluous zeros (`0.01`, `49.99`, `100`), as
    /// PostgreSQL's `numeric` reads it.
    public var description: String {
        guard !digits.isEmpty else { return "0" }
        let sign = negative ? "-" : ""
        if exponent >= 0 { return sign + digits + String(repeating: "0", count: exponent) }
        let fractionDigits = -exponent
        if digits.count > fractionDigits {
            let split = digits.index(digits.endIndex, offsetBy: -fractionDigits)
            return sign + digits[..<split] + "." + digits[split...]
        }
        return sign + "0." + String(repeating: "0", count: fractionDigits - digits.count) + digits
    }

    /// Plain notation with at least `minimumScale` fraction digits (`45.50` for cents), never
    /// rounding: extra digits are kept.
    public func formatted(minimumScale: Int) -> String {
        let plain = description
        let missing = minimumScale - scale
        guard missing > 0 else { return plain }
        return plain + (scale == 0 ? "." : "") + String(repeating: "0", count: missing)
    }

    /// The number of digits after the decimal point in `description`.
    public var scale: Int { max(0, -exponent) }
}
