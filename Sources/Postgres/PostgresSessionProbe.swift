import Logging

/// Finds out whether a connection string leads to a pooler in transaction or statement mode
/// (PgBouncer's `pool_mode = transaction`). There, consecutive transactions of one client
/// connection may run on different server sessions, so nothing a session keeps survives between
/// them: named prepared statements, `LISTEN`, session advisory locks, temporary tables.
public enum PostgresSessionProbe {
    /// True when two statements of one connection ran on different server sessions, or a second
    /// connection was lent the first one's server session while the first was still open, in any of
    /// `attempts` tries. Neither can happen on PostgreSQL itself or behind a pooler in session mode.
    /// PgBouncer hands the most recently released server connection out first, so in transaction
    /// mode the second connection's transaction gets the first one's session and the first then
    /// needs another; other clients' traffic can hide that once, hence several tries. A server that
    /// refuses the probe's transaction (statement mode) counts as sharing. A try that cannot reach
    /// the database (a connect that times out on a loaded host) is tried again; when no try reached
    /// it, the last such error is thrown: then nobody can tell.
    public static func sharesSessions(_ configuration: PostgresConfiguration, attempts: Int = 3, logger: Logger) async throws -> Bool {
        var probe = configuration
        probe.statementCacheCapacity = 0
        probe.connectTimeout = min(configuration.connectTimeout, 3)
        var reached = false
        var unreachable: (any Error)?
        for _ in 0..<max(1, attempts) {
            do {
                if try await lendsSessions(probe, logger: logger) { return true }
                reached = true
            } catch let error where PostgresError.cause(of: error).map(refusesTransactions) ?? false {
                return true
            } catch {
                guard PostgresError.cause(of: error) != nil else { throw error }
                unreachable = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        if !reached, let unreachable { throw unreachable }
        return false
    }

    private static func lendsSessions(_ configuration: PostgresConfiguration, logger: Logger) async throws -> Bool {
        try await PostgresConnection.withConnection(configuration, logger: logger) { first in
            try await PostgresConnection.withConnection(configuration, logger: logger) { second in
                let before = try await serverSession(first)
                return try await second.withTransaction { second in
                    let lent = try await serverSession(second)
                    let after = try await serverSession(first)
                    return lent == before || after != before
                }
            }
        }
    }

    /// A pooler's refusal of the probe itself (PgBouncer in statement mode: "transaction blocks not
    /// allowed in statement pooling mode"), or any error that is not about reaching the database.
    private static func refusesTransactions(_ error: PostgresError) -> Bool {
        error.message.contains("pooling mode") || !(error.isConnectionLoss || error.code == .unableToConnect)
    }

    /// The server process behind the statement (`PQbackendPID` would give the pooler's own number).
    private static func serverSession(_ connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT pg_backend_pid()").rows[0].decode(Int.self, at: 0)
    }
}
