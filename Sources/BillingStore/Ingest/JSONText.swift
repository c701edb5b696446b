import BillingCore

/// Minimal JSON writing for values the store keeps as `jsonb` (header maps).
enum JSONText {
    /// `{"a":"b"}` with keys sorted, so equal maps give equal text.
    static func object(_ members: [String: String]) -> String {
        "{"
            + members.sorted { $0.key < $1.key }.map { JSONValue.quote($0.key) + ":" + JSONValue.quote($0.value) }
            .joined(separator: ",") + "}"
    }
}
