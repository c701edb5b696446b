import Postgres

/// How far the replica the query API reads from is behind the primary: WAL bytes not yet
/// replayed there, and seconds since the newest transaction it replayed when it is behind.
public struct ReplicaLag: Sendable, Equatable {
    /// The primary's current WAL position minus the replica's replay position (0 when the
    /// "replica" is a primary itself, e.g. promoted).
    public var bytes: Int64
    /// 0 when every byte received has been replayed; otherwise the age of the newest replayed commit
    /// (the usual measure: it grows while replay is paused or blocked by a conflicting query). A
    /// replica that lost the primary receives nothing, so only ``bytes`` shows it.
    public var seconds: Double

    /// The replica's reading. Ages are taken on the replica's own clock.
    static let replicaSQL: PostgresQuery = """
        SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn()::text, '0/0'),
               CASE WHEN NOT pg_is_in_recovery() THEN 0
                    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE COALESCE((EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::int8, 0) END
        """

    /// Measures the lag of `replica` behind `primary`: one statement on each, the replica's first so
    /// a write in between counts as lag rather than hiding it.
    public static func measure(primary: PostgresPool, replica: PostgresPool) async throws -> ReplicaLag {
        let row = try await replica.query(replicaSQL).rows[0]
        let (inRecovery, replayed, milliseconds) = try row.decode((Bool, String, Int64).self)
        guard inRecovery else { return ReplicaLag(bytes: 0, seconds: 0) }
        let current = try await primary.query("SELECT pg_current_wal_lsn()::text").rows[0].decode(String.self, at: 0)
        let bytes = max(0, (lsn(current) ?? 0) - (lsn(replayed) ?? 0))
        return ReplicaLag(bytes: bytes, seconds: bytes == 0 ? 0 : max(0, Double(milliseconds) / 1000))
    }

    /// The byte offset of an LSN in PostgreSQL's text form (`16/B374D848`).
    static func lsn(_ text: String) -> Int64? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16) else { return nil }
        return Int64(bitPattern: high << 32 | low)
    }
}
