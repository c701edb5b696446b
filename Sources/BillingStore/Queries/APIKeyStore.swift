import BillingCore
import Crypto
import Foundation
import Postgres

/// An API key as listed (never its token).
public struct APIKey: Sendable, Equatable {
    /// Its id.
    public var id: UUID
    /// The name given at creation.
    public var name: String
    /// The token's first characters, which name it in lists and logs.
    public var prefix: String
    /// When it was created.
    public var createdAt: Date
    /// When it was last used (updated at most once a minute).
    public var lastUsedAt: Date?
    /// When it was revoked.
    public var revokedAt: Date?
}

/// API keys of the query API. A token is 32 random bytes shown once at creation; the database
/// keeps only its SHA-256, so a stolen database copy does not yield usable tokens.
public struct APIKeyStore: Sendable {
    let pool: PostgresPool

    /// Creates the store over `pool`.
    public init(pool: PostgresPool) { self.pool = pool }

    /// Length of the prefix kept in clear (`bek_` and 8 characters).
    static let prefixLength = 12

    /// Creates a key called `name`; returns it and its token (the only time the token exists).
    public func create(name: String) async throws -> (key: APIKey, token: String) {
        var random = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let token = "bek_" + Base64URL.encode(secret)
        let prefix = String(token.prefix(Self.prefixLength))
        let rows = try await pool.query(
            """
            INSERT INTO billing.api_keys (name, prefix, token_sha256) VALUES (\(name), \(prefix), \(Data(Self.hash(token: token))))
            RETURNING id, name, prefix, created_at, last_used_at, revoked_at
            """
        ).rows
        return (try Self.key(rows[0]), token)
    }

    /// Every key, newest first.
    public func list() async throws -> [APIKey] {
        try await pool.query("SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM billing.api_keys ORDER BY created_at DESC, id")
            .rows.map(Self.key)
    }

    /// Revokes the key whose prefix or id is `reference`; returns it, or nil when none matches.
    /// Takes effect at once: every request checks its key in the database, on the connection and in
    /// the round of work that answers it.
    public func revoke(_ reference: String) async throws -> APIKey? {
        let id = UUID(uuidString: reference)
        let rows = try await pool.query(
            """
            UPDATE billing.api_keys SET revoked_at = COALESCE(revoked_at, now())
            WHERE prefix = \(reference) OR id = \(id)
            RETURNING id, name, prefix, created_at, last_used_at, revoked_at
            """
        ).rows
        return try rows.first.map(Self.key)
    }

    /// The SHA-256 a token is looked up by.
    public static func hash(token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// The key whose token hashes to `tokenHash`, when it is not revoked: its `id`, and `stale`
    /// when its last use is over a minute old (so recording this use is worth a write). Unique
    /// index lookup; zero rows for a refused key.
    static func lookup(tokenHash: [UInt8]) -> PostgresQuery {
        """
        SELECT id, last_used_at IS NULL OR last_used_at < now() - interval '60 seconds' AS stale \
        FROM billing.api_keys WHERE token_sha256 = \(Data(tokenHash)) AND revoked_at IS NULL
        """
    }

    /// Whether a key that is not revoked has the token whose SHA-256 is `tokenHash`. The query API
    /// checks keys together with its reads; this is for answers that come before any read (a bad
    /// parameter), which must not be given to a caller without a key.
    public func accepts(tokenHash: [UInt8]) async throws -> Bool {
        try await !pool.query("SELECT 1 FROM billing.api_keys WHERE token_sha256 = \(Data(tokenHash)) AND revoked_at IS NULL").rows.isEmpty
    }

    /// Records that key `id` was used now (called at most about once a minute per key).
    public func touch(_ id: UUID) async throws {
        try await pool.query("UPDATE billing.api_keys SET last_used_at = now() WHERE id = \(id)")
    }

    private static func key(_ row: PostgresRow) throws -> APIKey {
        let (id, name, prefix, created, used, revoked) = try row.decode((UUID, String, String, Date, Date?, Date?).self)
        return APIKey(id: id, name: name, prefix: prefix, createdAt: created, lastUsedAt: used, revokedAt: revoked)
    }
}
