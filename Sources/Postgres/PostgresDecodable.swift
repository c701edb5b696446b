import Foundation

/// Why a column value could not be decoded; ``PostgresRow`` adds the column it came from.
public struct PostgresDecodingFailure: Error, Sendable, Equatable {
    /// What did not fit, without the value itself.
    public var reason: String
    /// Wraps a reason.
    public init(_ reason: String) { self.reason = reason }
}

/// A Swift value that can be read from a column in PostgreSQL's text format.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value.
    static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self
    /// Decodes SQL NULL; only optionals accept it.
    static func decodeNull() throws(PostgresDecodingFailure) -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws(PostgresDecodingFailure) -> Self {
        throw PostgresDecodingFailure("NULL where \(Self.self) was expected (decode as Optional)")
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try Wrapped.decode(postgres: text, type: type)
    }
    public static func decodeNull() throws(PostgresDecodingFailure) -> Self { nil }
}

extension String: PostgresDecodable {
    /// Any column as its text: `jsonb`, `uuid`, `numeric`… all read exactly as PostgreSQL printed them.
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        text
    }
}

/// Integer columns (`int2`, `int4`, `int8`, `oid`, `xid`, `xid8`) into a fixed-width Swift integer.
private func decodeInteger<T: FixedWidthInteger>(_ text: String, _ type: PostgresDataType) throws(PostgresDecodingFailure) -> T {
    guard [.int2, .int4, .int8, .oid, .xid, .xid8, .numeric].contains(type) else {
        throw PostgresDecodingFailure("\(type) is not an integer type for \(T.self)")
    }
    guard let value = T(text) else {
        throw PostgresDecodingFailure("value does not fit \(T.self)")
    }
    return value
}

extension Int: PostgresDecodable {
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try decodeInteger(text, type)
    }
}

extension Int64: PostgresDecodable {
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try decodeInteger(text, type)
    }
}

extension Int32: PostgresDecodable {
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try decodeInteger(text, type)
    }
}

extension Int16: PostgresDecodable {
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try decodeInteger(text, type)
    }
}

extension UInt64: PostgresDecodable {
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        try decodeInteger(text, type)
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        guard type == .bool else { throw PostgresDecodingFailure("\(type) is not bool") }
        switch text {
        case "t": return true
        case "f": return false
        default: throw PostgresDecodingFailure("unexpected bool text")
        }
    }
}

extension Decimal: PostgresDecodable {
    /// Exact: `numeric` text is parsed digit by digit, never through `Double`.
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        guard [.numeric, .int2, .int4, .int8].contains(type) else {
            throw PostgresDecodingFailure("\(type) is not numeric")
        }
        if text == "NaN" { return .nan }
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), !value.isNaN,
            value.description == canonical(text)
        else {
            throw PostgresDecodingFailure("numeric value cannot be represented exactly as Decimal")
        }
        return value
    }

    /// The spelling `Decimal.description` gives an exact value: no trailing fraction zeros, no `+`.
    private static func canonical(_ text: String) -> String {
        var t = Substring(text)
        if t.contains(".") {
            while t.last == "0" { t.removeLast() }
            if t.last == "." { t.removeLast() }
        }
        var negative = false
        if t.first == "-" {
            negative = true
            t.removeFirst()
        }
        while t.count > 1, t.first == "0", t.dropFirst().first != "." { t.removeFirst() }
        if t == "0" { return "0" }
        return (negative ? "-" : "") + t
    }
}

extension Date: PostgresDecodable {
    /// `timestamptz`, `timestamp` (as UTC) or `date` (midnight UTC), keeping microseconds.
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        guard [.timestamptz, .timestamp, .date].contains(type) else {
            throw PostgresDecodingFailure("\(type) is not a timestamp")
        }
        guard let micros = PostgresTimestamp.parse(text) else {
            throw PostgresDecodingFailure("timestamp is infinite or not in ISO format")
        }
        return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }
}

extension UUID: PostgresDecodable {
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        guard type == .uuid || type == .text || type == .varchar else {
            throw PostgresDecodingFailure("\(type) is not uuid")
        }
        guard let value = UUID(postgresText: text) else { throw PostgresDecodingFailure("not a UUID") }
        return value
    }
}

extension Data: PostgresDecodable {
    /// `bytea` from its hex text form (`\x…`).
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        guard type == .bytea else { throw PostgresDecodingFailure("\(type) is not bytea") }
        let hex = Array(text.utf8)
        guard hex.count >= 2, hex[0] == 92, hex[1] == 120, hex.count % 2 == 0 else {
            throw PostgresDecodingFailure("bytea is not in hex format (bytea_output must be 'hex')")
        }
        func nibble(_ byte: UInt8) throws(PostgresDecodingFailure) -> UInt8 {
            guard let value = PostgresHex.value(ofDigit: byte) else { throw PostgresDecodingFailure("bad hex digit in bytea") }
            return value
        }
        var data = Data(capacity: (hex.count - 2) / 2)
        var i = 2
        while i < hex.count {
            data.append(try nibble(hex[i]) << 4 | nibble(hex[i + 1]))
            i += 2
        }
        return data
    }
}
