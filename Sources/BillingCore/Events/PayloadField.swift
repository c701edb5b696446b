import Foundation

/// Reads typed fields out of a provider body, turning anything unusable into a
/// ``QuarantineReason`` that names the field. Absent and `null` fields read as nil: optional
/// fields stay optional; callers decide what is required.
enum PayloadField {
    /// Longest id or type the log accepts (they are indexed).
    static let maximumLength = 512

    /// A string, or a number's text (some ids are numeric); nil when absent, null or empty.
    static func string(_ value: JSONValue?, _ field: String) throws(QuarantineReason) -> String? {
        let text: String
        switch value {
        case nil, .null?: return nil
        case let .string(string)?: text = string
        case let .number(number)?: text = number
        default: throw QuarantineReason(.invalidField, "\(field) is not a string")
        }
        guard !text.isEmpty else { return nil }
        guard text.utf8.count <= maximumLength, !text.utf8.contains(0) else {
            throw QuarantineReason(.invalidField, "\(field) is longer than \(maximumLength) bytes or contains NUL")
        }
        return text
    }

    /// A string that must be present and non-empty.
    static func requiredString(_ value: JSONValue?, _ field: String) throws(QuarantineReason) -> String {
        guard let text = try string(value, field) else { throw QuarantineReason(.missingField, "\(field) is missing") }
        return text
    }

    /// An object that must be present.
    static func requiredObject(_ value: JSONValue?, _ field: String) throws(QuarantineReason) -> JSONValue {
        switch value {
        case let object?:
            guard case .object = object else {
                if object.isNull { throw QuarantineReason(.missingField, "\(field) is missing") }
                throw QuarantineReason(.invalidField, "\(field) is not an object")
            }
            return object
        case nil: throw QuarantineReason(.missingField, "\(field) is missing")
        }
    }

    /// An exact amount from a JSON number (`49.99`) or a decimal string (`"49.99"`).
    static func amount(_ value: JSONValue?, _ field: String) throws(QuarantineReason) -> DecimalAmount? {
        let text: String
        switch value {
        case nil, .null?: return nil
        case let .number(number)?: text = number
        case let .string(string)?:
            // Trimming through Foundation is slow; most amounts have nothing to trim.
            let padded = string.first?.isWhitespace != false || string.last?.isWhitespace != false
            text = padded ? string.trimmingCharacters(in: .whitespaces) : string
        default: throw QuarantineReason(.invalidField, "\(field) is not a number or decimal string")
        }
        guard let amount = DecimalAmount(text), amount.digits.count <= 1000 else {
            throw QuarantineReason(.invalidField, "\(field) is not a decimal amount")
        }
        try AmountBounds.check(amount, field)
        return amount
    }

    /// An ISO 4217 code, upper-cased.
    static func currency(_ value: JSONValue?, _ field: String) throws(QuarantineReason) -> String? {
        guard let code = try string(value, field) else { return nil }
        guard let normalized = Currency.normalize(code) else {
            throw QuarantineReason(.invalidField, "\(field) is not a three-letter currency code")
        }
        return normalized
    }

    /// A time from ISO 8601 text, or unix seconds as a number or numeric string.
    static func timestamp(_ value: JSONValue?, _ field: String) throws(QuarantineReason) -> Date? {
        try microseconds(value, field).map(EventTimestamp.date(microseconds:))
    }

    /// ``timestamp(_:_:)`` in microseconds since 1970.
    static func microseconds(_ value: JSONValue?, _ field: String) throws(QuarantineReason) -> Int64? {
        switch value {
        case nil, .null?: return nil
        case let .string(text)?:
            if text.isEmpty { return nil }
            if let micros = EventTimestamp.microseconds(iso8601: text) ?? EventTimestamp.microseconds(unixSeconds: text) { return micros }
        case let .number(text)?:
            if let micros = EventTimestamp.microseconds(unixSeconds: text) { return micros }
        default: break
        }
        throw QuarantineReason(.invalidField, "\(field) is not an ISO 8601 time or unix seconds")
    }

    /// The environment a body names (`live`/`test`), checked against an explicit route.
    static func environment(
        _ value: JSONValue?, _ field: String, delivery: IncomingDelivery
    ) throws(QuarantineReason) -> ProviderEnvironment {
        guard let text = try string(value, field) else { return delivery.environment }
        guard let named = ProviderEnvironment(rawValue: text) else {
            throw QuarantineReason(.invalidField, "\(field) is \"\(text)\", expected live or test")
        }
        if delivery.environmentIsExplicit, named != delivery.environment {
            throw QuarantineReason(
                .environmentMismatch, "\(field) is \(named.rawValue) but the delivery was for \(delivery.environment.rawValue)")
        }
        return named
    }
}
