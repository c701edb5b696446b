/// A parsed JSON document that keeps every number as the exact text it was written with, so
/// money never passes through a binary floating-point type (`49.99` stays `"49.99"`).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's token as written (`1e-2`, `49.990`, `30000000000000000000000000.5`).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; a repeated key keeps its last value when read by `subscript`.
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.number(a), .number(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// The member named `key` of an object (the last one when repeated); nil otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    /// Follows a path of member names: `value["data", "object", "id"]`.
    public subscript(path: String...) -> JSONValue? {
        path.reduce(Optional(self)) { $0?[$1] }
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    /// The number's token, when this is a number.
    public var numberText: String? {
        if case let .number(text) = self { return text }
        return nil
    }

    /// True for JSON `null`.
    public var isNull: Bool { self == .null }
}

/// Why a body is not a JSON document (the receiver quarantines such bodies with this reason).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// Byte offset where it was found.
    public var offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}
