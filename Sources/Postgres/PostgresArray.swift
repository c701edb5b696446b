import Foundation

/// An element type of a one-dimensional PostgreSQL array (`text[]`, `int8[]`, `uuid[]`…).
public protocol PostgresArrayElement: PostgresEncodable, PostgresDecodable {
    /// The OID of the array type whose elements are `Self`.
    static var postgresArrayType: PostgresDataType { get }
    /// The element's own type OID, used to decode each element of an array column.
    static var postgresElementType: PostgresDataType { get }
}

extension String: PostgresArrayElement {
    public static var postgresArrayType: PostgresDataType { .textArray }
    public static var postgresElementType: PostgresDataType { .text }
}

extension Int: PostgresArrayElement {
    public static var postgresArrayType: PostgresDataType { PostgresDataType(rawValue: 1016) }
    public static var postgresElementType: PostgresDataType { .int8 }
}

extension Int64: PostgresArrayElement {
    public static var postgresArrayType: PostgresDataType { PostgresDataType(rawValue: 1016) }
    public static var postgresElementType: PostgresDataType { .int8 }
}

extension UUID: PostgresArrayElement {
    public static var postgresArrayType: PostgresDataType { PostgresDataType(rawValue: 2951) }
    public static var postgresElementType: PostgresDataType { .uuid }
}

extension Decimal: PostgresArrayElement {
    public static var postgresArrayType: PostgresDataType { PostgresDataType(rawValue: 1231) }
    public static var postgresElementType: PostgresDataType { .numeric }
}

extension Date: PostgresArrayElement {
    public static var postgresArrayType: PostgresDataType { PostgresDataType(rawValue: 1185) }
    public static var postgresElementType: PostgresDataType { .timestamptz }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public static var postgresArrayType: PostgresDataType { Wrapped.postgresArrayType }
    public static var postgresElementType: PostgresDataType { Wrapped.postgresElementType }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresDataType { Wrapped.postgresType }
    public var postgresBind: PostgresBind {
        self?.postgresBind ?? PostgresBind(type: Wrapped.postgresType, format: .text, bytes: nil)
    }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public static var postgresType: PostgresDataType { Element.postgresArrayType }
    /// An array literal with every element quoted; NULL elements unquoted. Built byte by byte
    /// (projections send arrays of thousands of values per statement).
    public var postgresBind: PostgresBind {
        var literal: [UInt8] = [UInt8(ascii: "{")]
        for (index, element) in enumerated() {
            if index > 0 { literal.append(UInt8(ascii: ",")) }
            guard let bytes = element.postgresBind.bytes else {
                literal += [UInt8]("NULL".utf8)
                continue
            }
            literal.append(UInt8(ascii: "\""))
            for byte in bytes {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
                literal.append(byte)
            }
            literal.append(UInt8(ascii: "\""))
        }
        literal.append(UInt8(ascii: "}"))
        return PostgresBind(type: Element.postgresArrayType, format: .text, bytes: literal)
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    /// One-dimensional arrays; elements are decoded with the element type's own rules.
    public static func decode(postgres text: String, type: PostgresDataType) throws(PostgresDecodingFailure) -> Self {
        var result: [Element] = []
        for item in try PostgresArrayLiteral.parse(text) {
            if let item {
                result.append(try Element.decode(postgres: item, type: Element.postgresElementType))
            } else {
                result.append(try Element.decodeNull())
            }
        }
        return result
    }
}

/// Parser for PostgreSQL's array output syntax (`{a,"b c",NULL}`).
enum PostgresArrayLiteral {
    static func parse(_ text: String) throws(PostgresDecodingFailure) -> [String?] {
        let scalars = Array(text.unicodeScalars)
        guard scalars.first == "{", scalars.last == "}" else {
            throw PostgresDecodingFailure("not a one-dimensional array literal")
        }
        if scalars.count == 2 { return [] }
        var items: [String?] = []
        var i = 1
        while i < scalars.count - 1 {
            var item = String.UnicodeScalarView()
            if scalars[i] == "\"" {
                i += 1
                while i < scalars.count - 1, scalars[i] != "\"" {
                    if scalars[i] == "\\" { i += 1 }
                    item.append(scalars[i])
                    i += 1
                }
                i += 1
                items.append(String(item))
            } else {
                while i < scalars.count - 1, scalars[i] != "," {
                    if scalars[i] == "{" { throw PostgresDecodingFailure("multi-dimensional arrays are not supported") }
                    item.append(scalars[i])
                    i += 1
                }
                let word = String(item)
                items.append(word == "NULL" ? nil : word)
            }
            guard i == scalars.count - 1 || scalars[i] == "," else {
                throw PostgresDecodingFailure("malformed array literal")
            }
            i += 1
        }
        return items
    }
}
