import Foundation

/// One page request of a list route, read and validated from the query string.
public struct ListRequest: Sendable, Equatable {
    /// Page size, 1–100.
    public var limit: Int
    /// Oldest first when true; newest first by default.
    public var ascending: Bool
    /// The filters given, by parameter name.
    public var filters: [String: ListFilterValue]
    /// Where the previous page ended, from a verified cursor.
    public var after: PageKey?
    /// `min_position`: the log position the read models must have reached before answering.
    public var minimumPosition: Int64?

    /// Default page size.
    public static let defaultLimit = 20
    /// Largest page size.
    public static let maximumLimit = 100
    /// Parameters every list accepts besides its filters.
    public static let commonParameters: Set<String> = ["limit", "order", "cursor", "min_position"]

    /// Reads `items` (the decoded query string) for a list of `resource` that accepts `filters`.
    /// `scope` names the parent of a nested list (a wallet's transactions) and is bound into cursors.
    public init(
        _ items: [(name: String, value: String)], resource: String, scope: String = "", filters: [ListFilter], cursors: PageCursorSigner
    ) throws(QueryParameterError) {
        var seen: [String: String] = [:]
        let known = Dictionary(uniqueKeysWithValues: filters.map { ($0.name, $0) })
        for (name, value) in items {
            guard known[name] != nil || Self.commonParameters.contains(name) else {
                let accepted = (filters.map(\.name) + Self.commonParameters.sorted()).joined(separator: ", ")
                throw QueryParameterError(.unknownParameter, parameter: name, "unknown parameter; this route accepts \(accepted)")
            }
            guard seen[name] == nil else { throw QueryParameterError(.invalidParameter, parameter: name, "given more than once") }
            seen[name] = value
        }
        limit = Self.defaultLimit
        if let text = seen["limit"] {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw QueryParameterError(.invalidParameter, parameter: "limit", "must be an integer from 1 to \(Self.maximumLimit)")
            }
            limit = value
        }
        switch seen["order"] {
        case nil, "desc": ascending = false
        case "asc": ascending = true
        default: throw QueryParameterError(.invalidParameter, parameter: "order", "must be asc or desc")
        }
        minimumPosition = try seen["min_position"].map(Self.minimumPosition)
        var values: [String: ListFilterValue] = [:]
        for filter in filters {
            guard let text = seen[filter.name] else { continue }
            values[filter.name] = try Self.read(text, as: filter)
        }
        self.filters = values
        let binding = PageCursor.Binding(resource: resource, scope: scope, ascending: ascending, filters: values)
        after = try seen["cursor"].map { text throws(QueryParameterError) in try cursors.verify(text, for: binding) }
    }

    /// The binding a cursor for the next page carries.
    public func binding(resource: String, scope: String = "") -> PageCursor.Binding {
        PageCursor.Binding(resource: resource, scope: scope, ascending: ascending, filters: filters)
    }

    /// Reads a `min_position` value.
    public static func minimumPosition(_ text: String) throws(QueryParameterError) -> Int64 {
        guard let value = Int64(text), value >= 0 else {
            throw QueryParameterError(.invalidParameter, parameter: "min_position", "must be a non-negative integer")
        }
        return value
    }

    private static func read(_ text: String, as filter: ListFilter) throws(QueryParameterError) -> ListFilterValue {
        func invalid(_ message: String) -> QueryParameterError { QueryParameterError(.invalidParameter, parameter: filter.name, message) }
        guard !text.isEmpty else { throw invalid("must not be empty") }
        switch filter.kind {
        case .text, .caseInsensitiveText:
            guard text.utf8.count <= 500, !text.utf8.contains(0) else { throw invalid("must be at most 500 bytes of text") }
            return .text(filter.kind == .caseInsensitiveText ? text.lowercased() : text)
        case let .oneOf(values):
            guard values.contains(text) else { throw invalid("must be one of \(values.joined(separator: ", "))") }
            return .text(text)
        case .id:
            guard text.utf8.count == 36, let id = UUID(uuidString: text) else { throw invalid("must be an id (a UUID)") }
            return .id(id)
        case .time:
            let iso = text.utf8.count == 10 ? text + "T00:00:00Z" : text
            guard let micros = EventTimestamp.microseconds(iso8601: iso), text.utf8.count >= 10 else {
                throw invalid("must be an RFC 3339 time (2026-03-31T00:00:00Z) or a date (2026-03-31)")
            }
            return .time(micros)
        }
    }
}
