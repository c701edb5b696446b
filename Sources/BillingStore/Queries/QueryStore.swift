import BillingCore
import Foundation
import Postgres

/// The query API's reads: pages of read models and events, single objects, the raw payload of an
/// event, and the log position the read models have reached. Every value is bound.
public struct QueryStore: Sendable {
    let pool: PostgresPool

    /// Creates the store over `pool`.
    public init(pool: PostgresPool) { self.pool = pool }

    /// The position of the slowest projection's checkpoint (the last event it has applied, in
    /// commit order); 0 before any.
    static let position: PostgresQuery = "(SELECT position FROM billing.projection_checkpoints ORDER BY transaction_id, position LIMIT 1)"

    /// Runs `query` for the API key whose token hashes to `key`, as one statement: the key lookup
    /// is the outer side of a nested loop and `query` its inner side, so a request costs one round
    /// trip and the read does not run at all for an unknown or revoked key (then the answer is nil).
    /// `decode` sees `query`'s rows with their own column numbers; `query` must return at least one.
    /// With `wait`, the same statement checks ``hasReachedQuery(_:)`` and reads only when it holds (a
    /// condition on the outer row only: the planner makes it a one-time filter that skips the read);
    /// otherwise it runs again every 25 ms until `wait.timeout`, then throws ``PositionWait/NotReached``.
    func authorized<T: Sendable>(
        _ key: [UInt8], _ query: PostgresQuery, after wait: PositionWait? = nil, _ decode: @escaping @Sendable ([PostgresRow]) throws -> T
    ) async throws -> Authorized<T>? {
        let reached: PostgresQuery = wait.map { "(\(Self.hasReachedQuery($0.position)))" } ?? "true"
        let statement: PostgresQuery = """
            SELECT q.*, k.id AS key_id, k.stale AS key_stale, k.reached FROM (
                SELECT k.*, \(reached) AS reached FROM (\(APIKeyStore.lookup(tokenHash: key))) AS k) AS k \
            LEFT JOIN LATERAL (SELECT * FROM (\(query)) AS q WHERE k.reached) AS q ON true
            """
        let deadline = ContinuousClock.now + (wait?.timeout ?? .zero)
        while true {
            // .some(nil): the key was refused; nil: the position is not reached yet (only with a wait,
            // since `reached` is the constant true otherwise).
            let read: Authorized<T>?? = try await pool.perform { connection in
                let rows = try connection.execute(statement).rows
                guard let first = rows.first else { return .some(nil) }
                let columns = first.values.count
                guard try first.decode(Bool.self, at: columns - 1) else { return nil }
                return Authorized(
                    keyID: try first.decode(UUID.self, at: columns - 3), lastUseIsStale: try first.decode(Bool.self, at: columns - 2),
                    value: try decode(rows))
            }
            if let read { return read }
            guard let wait else { return nil }  // unreachable: without a wait every read is reached
            guard ContinuousClock.now < deadline else { throw PositionWait.NotReached(position: wait.position, timeout: wait.timeout) }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// One page of `resource` (`scope`: the parent id of a nested list) for the API key `key`. One
    /// statement: the key check, the keyset condition and order riding on the index of the filter,
    /// and the read models' position.
    public func list(
        _ resource: ListResource, _ request: ListRequest, scope: UUID? = nil, key: [UInt8], after wait: PositionWait? = nil
    ) async throws -> Authorized<ReadModelPage>? {
        try await authorized(key, Self.listQuery(resource, request, scope: scope), after: wait) { rows in
            try Self.page(rows, limit: request.limit)
        }
    }

    private static func page(_ rows: [PostgresRow], limit: Int) throws -> ReadModelPage {
        var page = ReadModelPage(rows: [], hasMore: false, nextKey: nil, position: try rows.first?.decode(Int64?.self, at: 0) ?? 0)
        for row in rows {
            guard let json = row.values[1] else { continue }
            if page.rows.count == limit {
                page.hasMore = true
                break
            }
            page.rows.append(json)
            page.nextKey = PageKey(time: try row.decode(Int64.self, at: 2), tiebreak: try row.decode(String.self, at: 3))
        }
        if !page.hasMore { page.nextKey = nil }
        return page
    }

    /// One object of `resource` by id, with its ``ListResource/detail`` members appended to its
    /// JSON, and the read models' position; nil when there is none.
    public func object(
        _ resource: ListResource, id: UUID, key: [UInt8], after wait: PositionWait? = nil
    ) async throws -> Authorized<(json: String?, position: Int64)>? {
        // Appended as text so the members keep their order (a jsonb merge would sort them).
        let json: PostgresQuery =
            resource.detail.isEmpty
            ? "\(resource.json)::text" : "left(\(resource.json)::text, -1) || ', ' || substr(\(ListResource.object(resource.detail))::text, 2)"
        let query: PostgresQuery = """
            SELECT \(Self.position), (SELECT \(json) \
            FROM \(resource.from) CROSS JOIN LATERAL (SELECT t.id AS object_id) AS this WHERE t.id = \(id))
            """
        return try await authorized(key, query, after: wait) { rows in (rows[0].values[1], try rows[0].decode(Int64?.self, at: 0) ?? 0) }
    }

    /// Event `id` with its exact payload spliced in as the member `payload` (the body is valid
    /// JSON: it was parsed before it was logged; a leading byte-order mark, which the parser
    /// skips, is left out here), and the read models' position.
    public func event(id: UUID, key: [UInt8], after wait: PositionWait? = nil) async throws -> Authorized<(json: String?, position: Int64)>? {
        let query: PostgresQuery = """
            SELECT \(Self.position), t.json, t.body FROM (SELECT 1) AS one LEFT JOIN LATERAL (
                SELECT \(ListResource.events.json)::text AS json, ltrim(convert_from(t.raw_body, 'UTF8'), U&'\\FEFF') AS body
                FROM billing.events t WHERE \(EventsTable.located(id))) AS t ON true
            """
        return try await authorized(key, query, after: wait) { rows in
            let position = try rows[0].decode(Int64?.self, at: 0) ?? 0
            guard let json = rows[0].values[1], let body = rows[0].values[2] else { return (nil, position) }
            return (String(json.dropLast()) + ", \"payload\": " + body + "}", position)
        }
    }

    /// Read-your-writes on the database that answers: the event at `position` is here (a replica
    /// has replayed it) and every projection here has applied it and every other event at or
    /// below it (positions are handed out before commit, so "applied" is checked per event). A
    /// position this database has no event at (beyond the log, a replica behind, a gap) is not
    /// reached; 0 or below always is.
    static func hasReachedQuery(_ position: Int64) -> PostgresQuery {
        """
        WITH slowest AS (SELECT transaction_id, position FROM billing.projection_checkpoints ORDER BY transaction_id, position LIMIT 1)
        SELECT \(position) <= 0 OR (
            EXISTS (SELECT 1 FROM billing.events WHERE position = \(position))
            AND NOT EXISTS (
                SELECT 1 FROM billing.events e
                WHERE (e.transaction_id, e.position) > ((SELECT transaction_id FROM slowest), (SELECT position FROM slowest))
                  AND e.position <= \(position)))
        """
    }

    /// The key that signs page cursors, generated by migration 0004 and shared by every instance.
    public func cursorSigningKey() async throws -> [UInt8] {
        let rows = try await pool.query("SELECT value FROM billing.service_secrets WHERE name = 'cursor_signing_key'").rows
        guard let row = rows.first else { throw PostgresError(code: .noDataFound, message: "the cursor signing key is missing; run migrate") }
        return Array(try row.decode(Data.self, at: 0))
    }

    /// The exact body of event `id`, as received, for the API key `key`.
    public func rawPayload(event id: UUID, key: [UInt8], after wait: PositionWait? = nil) async throws -> Authorized<[UInt8]?>? {
        try await authorized(key, "SELECT (SELECT raw_body FROM billing.events t WHERE \(EventsTable.located(id))) AS raw_body", after: wait) {
            rows in
            try rows[0].decode(Data?.self, at: 0).map(Array.init)
        }
    }
}
