import Foundation

/// A Swift value that can be bound as a query parameter.
public protocol PostgresEncodable: Sendable {
    /// The OID sent with the parameter, also for NULL.
    static var postgresType: PostgresDataType { get }
    /// The encoded parameter.
    var postgresBind: PostgresBind { get }
}

extension String: PostgresEncodable {
    /// Unspecified, so the server infers `text`, `jsonb`, `uuid`… from where the parameter is used.
    public static var postgresType: PostgresDataType { .unspecified }
    public var postgresBind: PostgresBind { PostgresBind(type: .unspecified, text: self) }
}

extension Substring: PostgresEncodable {
    public static var postgresType: PostgresDataType { .unspecified }
    public var postgresBind: PostgresBind { PostgresBind(type: .unspecified, text: String(self)) }
}

extension Int: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int8 }
    public var postgresBind: PostgresBind { PostgresBind(type: .int8, text: String(self)) }
}

extension Int64: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int8 }
    public var postgresBind: PostgresBind { PostgresBind(type: .int8, text: String(self)) }
}

extension Int32: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int4 }
    public var postgresBind: PostgresBind { PostgresBind(type: .int4, text: String(self)) }
}

extension Int16: PostgresEncodable {
    public static var postgresType: PostgresDataType { .int2 }
    public var postgresBind: PostgresBind { PostgresBind(type: .int2, text: String(self)) }
}

extension Bool: PostgresEncodable {
    public static var postgresType: PostgresDataType { .bool }
    public var postgresBind: PostgresBind { PostgresBind(type: .bool, text: self ? "t" : "f") }
}

extension Decimal: PostgresEncodable {
    public static var postgresType: PostgresDataType { .numeric }
    /// Plain decimal notation from `Decimal`'s own digits: exact, never through `Double`.
    public var postgresBind: PostgresBind {
        PostgresBind(type: .numeric, text: isNaN ? "NaN" : description)
    }
}

extension Date: PostgresEncodable {
    public static var postgresType: PostgresDataType { .timestamptz }
    /// Rounded to the microsecond, the resolution of `timestamptz`.
    public var postgresBind: PostgresBind {
        let micros = Int64((timeIntervalSince1970 * 1_000_000).rounded())
        return PostgresBind(type: .timestamptz, text: PostgresTimestamp.format(microseconds: micros))
    }
}

extension UUID: PostgresEncodable {
    public static var postgresType: PostgresDataType { .uuid }
    public var postgresBind: PostgresBind { PostgresBind(type: .uuid, text: postgresText) }
}

extension Data: PostgresEncodable {
    public static var postgresType: PostgresDataType { .bytea }
    public var postgresBind: PostgresBind { PostgresBind(type: .bytea, format: .binary, bytes: Array(self)) }
}

/// A `jsonb` value carried as its JSON text, bound with the `jsonb` OID.
public struct PostgresJSONB: PostgresEncodable, PostgresDecodable, Hashable {
    /// The JSON document as text.
    public var text: String
    /// Wraps JSON text; the server validates it.
    public init(_ text: String) { self.text = text }

    public static var postgresType: PostgresDataType { .jsonb }
    public var postgresBind: PostgresBind { PostgresBind(type: .jsonb, text: text) }
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        PostgresJSONB(text)
    }
}
