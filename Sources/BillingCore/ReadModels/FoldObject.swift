import Foundation

/// A JSON object inside a provider body, read for the read models: typed field reads that name
/// the field when a value is unusable (the event is then poison), absent and `null` read as nil.
struct FoldObject {
    /// The object.
    var value: JSONValue
    /// Its path in the body, for error messages (`data.customer`).
    var path: String

    /// The object at `key`, when it is one.
    func object(_ key: String) -> FoldObject? {
        guard case .object? = value[key] else { return nil }
        return FoldObject(value: value[key]!, path: path.isEmpty ? key : "\(path).\(key)")
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Text (a string, or a number's token); NUL removed since PostgreSQL text cannot hold it.
    func text(_ key: String) throws(ReadModelFoldError) -> String? {
        switch value[key] {
        case nil, .null?: return nil
        case let .string(text)?:
            guard !text.isEmpty else { return nil }
            guard text.utf8.count <= 65_536 else { throw ReadModelFoldError("\(name(key)) is longer than 64 KiB") }
            return text.utf8.contains(0) ? String(decoding: text.utf8.filter { $0 != 0 }, as: UTF8.self) : text
        case let .number(text)?: return text
        default: throw ReadModelFoldError("\(name(key)) is not a string")
        }
    }

    /// An id: text that must be present.
    func id(_ key: String) throws(ReadModelFoldError) -> String {
        guard let text = try text(key) else { throw ReadModelFoldError("\(name(key)) is missing") }
        return text
    }

    /// An exact decimal from a JSON number or a decimal string (empty text reads as nil).
    func amount(_ key: String) throws(ReadModelFoldError) -> DecimalAmount? {
        if case let .string(text)? = value[key], text.unicodeScalars.allSatisfy({ $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }) {
            return nil
        }
        do { return try PayloadField.amount(value[key], name(key)) } catch { throw ReadModelFoldError(error.message) }
    }

    /// An integer (JSON number or numeric string without fraction).
    func integer(_ key: String) throws(ReadModelFoldError) -> Int? {
        guard let amount = try self.amount(key) else { return nil }
        guard let integer = Int(amount.description), amount.exponent >= 0 else {
            throw ReadModelFoldError("\(name(key)) is not an integer")
        }
        return integer
    }

    /// A boolean (JSON `true`/`false` or the strings `"true"`/`"false"`).
    func bool(_ key: String) throws(ReadModelFoldError) -> Bool? {
        switch value[key] {
        case nil, .null?: return nil
        case let .bool(flag)?: return flag
        case let .string(text)? where text == "true" || text == "false": return text == "true"
        default: throw ReadModelFoldError("\(name(key)) is not a boolean")
        }
    }

    /// A time from ISO 8601 text or unix seconds, in microseconds (Go's zero time reads as nil).
    func time(_ key: String) throws(ReadModelFoldError) -> Int64? {
        if case let .string(text)? = value[key], text.hasPrefix("0001-01-01") { return nil }
        do { return try PayloadField.microseconds(value[key], name(key)) } catch { throw ReadModelFoldError(error.message) }
    }

    /// The text fields `fields` (source key, output key) as one JSON object, nil when all are absent
    /// (addresses spread over several fields).
    func object(fields: [(String, String)]) throws(ReadModelFoldError) -> String? {
        var members: [(key: String, value: JSONValue)] = []
        for (field, key) in fields {
            if let text = try text(field) { members.append((key, .string(text))) }
        }
        return members.isEmpty ? nil : JSONValue.object(members).jsonText
    }

    /// A JSON object or array as JSON text (for `jsonb`); other values are not accepted.
    func json(_ key: String) throws(ReadModelFoldError) -> String? {
        switch value[key] {
        case nil, .null?: return nil
        case let nested? where nested.isContainer: return nested.jsonText
        default: throw ReadModelFoldError("\(name(key)) is not an object or array")
        }
    }
}

/// Builds the values of one register write.
struct FoldValues {
    /// The values so far.
    var values: [String: ReadModelValue] = [:]

    /// Sets text; nil leaves the column NULL.
    mutating func set(_ column: String, _ text: String?) {
        if let text { values[column] = .text(text) }
    }

    /// Sets an exact decimal.
    mutating func set(_ column: String, _ amount: DecimalAmount?) {
        if let amount { values[column] = .text(amount.description) }
    }

    /// Sets an integer.
    mutating func set(_ column: String, _ integer: Int?) {
        if let integer { values[column] = .text(String(integer)) }
    }

    /// Sets a boolean.
    mutating func set(_ column: String, _ flag: Bool?) {
        if let flag { values[column] = .text(flag ? "true" : "false") }
    }

    /// Sets a time.
    mutating func set(_ column: String, time micros: Int64?) {
        if let micros { values[column] = .time(micros) }
    }

    /// Sets a stable id of another table.
    mutating func set(_ column: String, _ id: UUID?) {
        if let id { values[column] = .id(id) }
    }
}
