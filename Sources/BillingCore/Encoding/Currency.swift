/// ISO 4217 currency codes as the service stores them: three upper-case letters.
public enum Currency {
    /// Upper-cases a provider's code (`usd` → `USD`); nil unless it is three ASCII letters.
    public static func normalize(_ code: String) -> String? {
        let upper = code.uppercased()
        guard upper.utf8.count == 3, upper.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else { return nil }
        return upper
    }

    /// Digits after the decimal point in the currency's minor unit (ISO 4217): 2 unless listed.
    public static func minorUnitDigits(_ code: String) -> Int {
        if zeroDecimal.contains(code) { return 0 }
        if threeDecimal.contains(code) { return 3 }
        return 2
    }

    private static let zeroDecimal: Set<String> = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF",
        "XOF", "XPF",
    ]
    private static let threeDecimal: Set<String> = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]
}
