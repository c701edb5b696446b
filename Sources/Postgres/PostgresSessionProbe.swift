import Logging

/// Finds out whether a connection string leads to a pooler in transaction or statement mode
/// (PgBouncer's `pool_mode = transaction`). There, consecutive transactions of one client
/// connection may run on different server sessions, so nothing a session keeps survives between
/// them: named prepared statements, `LISTEN`, session advisory locks, temporary tables.
public enum PostgresSessionProbe {
    /// True when two statements of one connection ran on different server sessions, or a second
    /// connection was lent the first one's server session while the first was still open. Neither
    /// can happen on PostgreSQL itself or behind a pooler in session mode. PgBouncer hands the most
    /// recently released server connection out first, so in transaction mode the second
    /// connection's transaction gets the first one's session and the first then needs another.
    public static func sharesSessions(_ configuration: PostgresConfiguration, logger: Logger) async throws -> Bool {
        var unprepared = configuration
        unprepared.statementCacheCapacity = 0
        return try await PostgresConnection.withConnection(unprepared, logger: logger) { first in
            try await PostgresConnection.withConnection(unprepared, logger: logger) { second in
                let before = try await serverSession(first)
                return try await second.withTransaction { second in
                    let lent = try await serverSession(second)
                    let after = try await serverSession(first)
                    return lent == before || after != before
                }
            }
        }
    }

    /// The server process behind the statement (`PQbackendPID` would give the pooler's own number).
    private static func serverSession(_ connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT pg_backend_pid()").rows[0].decode(Int.self, at: 0)
    }
}
