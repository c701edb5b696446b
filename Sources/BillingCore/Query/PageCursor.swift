import Crypto
import Foundation

/// Where a page ended: the order key of its last row. Read models are ordered by
/// (`created_at`, `id`), events by (event time, `position`).
public struct PageKey: Sendable, Hashable {
    /// The time part of the key, in microseconds since 1970.
    public var time: Int64
    /// The unique part: an id or a position, as text.
    public var tiebreak: String

    /// Creates a key.
    public init(time: Int64, tiebreak: String) {
        self.time = time
        self.tiebreak = tiebreak
    }
}

/// What a `next_cursor` carries besides the last key of its page: what it is bound to.
public enum PageCursor {
    /// What a cursor is valid for: the list, its parent, the order and the exact filters.
    public struct Binding: Sendable, Hashable {
        /// The list (`payments`, `wallet_transactions`, …).
        public var resource: String
        /// The parent of a nested list (a wallet id), else empty.
        public var scope: String
        /// The order.
        public var ascending: Bool
        /// The normalized filters.
        public var filters: [String: ListFilterValue]

        /// Creates a binding.
        public init(resource: String, scope: String, ascending: Bool, filters: [String: ListFilterValue]) {
            self.resource = resource
            self.scope = scope
            self.ascending = ascending
            self.filters = filters
        }

        /// A short digest of the filters, independent of their order in the query string.
        var filterDigest: String {
            let canonical = filters.sorted { $0.key < $1.key }.map { "\($0.key)\u{0}\($0.value)" }.joined(separator: "\u{0}")
            return Hex.encode(SHA256.hash(data: Array(canonical.utf8)).prefix(12))
        }
    }
}

/// Signs and verifies cursors with HMAC-SHA256 under the service's cursor key (shared by every
/// instance through the database), so a cursor can be neither forged nor edited.
public struct PageCursorSigner: Sendable {
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// Creates a signer with `key` (at least 16 bytes).
    public init(key: [UInt8]) {
        precondition(key.count >= 16, "the cursor key is too short")
        self.keyBytes = key
    }

    /// The opaque cursor for the page after `key`.
    public func cursor(after key: PageKey, binding: PageCursor.Binding) -> String {
        let fields = ["1", binding.resource, binding.scope, binding.ascending ? "a" : "d", binding.filterDigest, String(key.time), key.tiebreak]
        let payload = Array(fields.joined(separator: "\n").utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: self.key)
        return Base64URL.encode(payload) + "." + Base64URL.encode(Array(mac))
    }

    /// The key a cursor carries, when it is authentic and made for `binding`.
    public func verify(_ cursor: String, for binding: PageCursor.Binding) throws(QueryParameterError) -> PageKey {
        let invalid = QueryParameterError(.invalidCursor, parameter: "cursor", "not a cursor this service issued, or altered")
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard cursor.utf8.count <= 1024, parts.count == 2, let payload = Base64URL.decode(parts[0]),
            let mac = Base64URL.decode(parts[1]),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key)
        else { throw invalid }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 7, fields[0] == "1", let time = Int64(fields[5]) else { throw invalid }
        guard fields[1] == binding.resource, fields[2] == binding.scope else {
            throw QueryParameterError(.cursorMismatch, parameter: "cursor", "this cursor belongs to another list")
        }
        guard fields[3] == (binding.ascending ? "a" : "d") else {
            throw QueryParameterError(.cursorMismatch, parameter: "cursor", "this cursor was made for the other order")
        }
        guard fields[4] == binding.filterDigest else {
            throw QueryParameterError(.cursorMismatch, parameter: "cursor", "this cursor was made with other filters; repeat them exactly")
        }
        return PageKey(time: time, tiebreak: fields[6])
    }
}
