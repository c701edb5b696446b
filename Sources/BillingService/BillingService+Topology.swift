import Logging
import Postgres

extension BillingService {
    /// `configuration` with prepared statements as `setting` asks: `auto` probes the server behind
    /// it (``PostgresSessionProbe``) and turns them off behind a pooler in transaction mode, or
    /// when the database cannot be reached now (off works everywhere; it costs a parse per statement).
    static func pooled(
        _ configuration: PostgresConfiguration, _ setting: ServeSettings.PreparedStatements, named name: String, logger: Logger
    ) async -> PostgresConfiguration {
        var configuration = configuration
        switch setting {
        case .on: return configuration
        case .off: configuration.statementCacheCapacity = 0
        case .auto:
            do {
                guard try await PostgresSessionProbe.sharesSessions(configuration, logger: logger) else { return configuration }
                logger.notice(
                    "a pooler in transaction mode serves this database; prepared statements are off (DATABASE_PREPARED_STATEMENTS=off says so without the probe)",
                    metadata: ["setting": "\(name)"])
            } catch {
                logger.warning(
                    "could not probe the database for a transaction pooler; prepared statements are off (set DATABASE_PREPARED_STATEMENTS=on or off to skip the probe)",
                    metadata: ["setting": "\(name)", "error": "\(error)"])
            }
            configuration.statementCacheCapacity = 0
        }
        return configuration
    }

    /// Warns when `configuration` lists several hosts but lets libpq take any of them: after a
    /// failover it could settle on a standby, where every write fails (503) until it is promoted.
    static func warnUnlessPrimaryIsChosen(_ configuration: PostgresConfiguration, named name: String, logger: Logger) {
        guard let hosts = configuration.parameter("host"), hosts.contains(","),
            !["read-write", "primary"].contains(configuration.parameter("target_session_attrs") ?? "any")
        else { return }
        logger.warning(
            "\(name) lists several hosts without target_session_attrs=read-write; libpq may connect to a standby, where writes fail",
            metadata: ["hosts": "\(hosts)"])
    }

    /// Refuses to start when `configuration`, used for work that needs a server session of its own
    /// (the projector's lease and `LISTEN`, the migrations' lock), leads to a pooler in transaction
    /// mode. A database that cannot be reached now is let through: the projector waits for it.
    /// Returns whether the check ran (and so found sessions kept).
    @discardableResult
    public static func requireSession(
        _ configuration: PostgresConfiguration, named name: String, for work: String, logger: Logger
    ) async throws -> Bool {
        let shared: Bool
        do {
            shared = try await PostgresSessionProbe.sharesSessions(configuration, logger: logger)
        } catch {
            logger.warning(
                "could not check that \(name) keeps sessions (it must not be a pooler in transaction mode)",
                metadata: ["error": "\(error)"])
            return false
        }
        guard shared else { return true }
        throw ServeSetupError(
            code: .sessionPooled,
            message: "\(work) needs a database session of its own, but \(name) (\(configuration.redactedDescription)) "
                + "leads to a pooler in transaction or statement mode: consecutive statements ran on different server sessions. "
                + "Set SESSION_DATABASE_URL to a direct connection to the primary (or a pooler in session mode)")
    }
}
