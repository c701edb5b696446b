import Postgres

/// Whether the database can serve: reachable, and every migration of this build applied.
public struct DatabaseHealth: Sendable {
    /// The outcome of one check.
    public struct Report: Sendable, Equatable {
        /// The database answered.
        public var reachable: Bool
        /// No migration is pending or edited.
        public var migrated: Bool
        /// A replica is within its lag limit (always true for a primary).
        public var caughtUp: Bool
        /// Why the database is not ready, when it is not.
        public var reason: String?
        /// Ready to serve traffic.
        public var isReady: Bool { reachable && migrated && caughtUp }

        /// Creates a report.
        public init(reachable: Bool, migrated: Bool, caughtUp: Bool = true, reason: String? = nil) {
            self.reachable = reachable
            self.migrated = migrated
            self.caughtUp = caughtUp
            self.reason = reason
        }
    }

    /// A replica's lag limit: further behind `primary` than `maximum` is not ready.
    public struct LagLimit: Sendable {
        /// The replica checked.
        public var replica: PostgresPool
        /// The primary it follows.
        public var primary: PostgresPool
        /// The most lag (``ReplicaLag/seconds``) still ready.
        public var maximum: Duration

        /// Creates a limit.
        public init(replica: PostgresPool, primary: PostgresPool, maximum: Duration) {
            self.replica = replica
            self.primary = primary
            self.maximum = maximum
        }
    }

    private let runner: MigrationRunner
    private let lagLimit: LagLimit?

    /// Creates a check that uses `runner` to compare migrations and, for a replica, `lagLimit`.
    public init(runner: MigrationRunner, lagLimit: LagLimit? = nil) {
        self.runner = runner
        self.lagLimit = lagLimit
    }

    /// True for an error that says the database cannot be used right now: the connection is lost
    /// (also during a transaction's COMMIT, whose outcome is then unknown), the server is shutting
    /// down, refuses connections, is a read-only standby or out of resources (disk full, too many
    /// connections), or the pool has no connection free in time. The same request may succeed
    /// later: receivers and the API answer these 503 with `Retry-After`.
    public static func isUnavailable(_ error: any Error) -> Bool {
        if error is PostgresPoolError { return true }
        guard let error = PostgresError.cause(of: error) else { return false }
        // A table or column this build writes is missing: the schema is behind the build (a
        // receiver started with --no-migrate before `migrate` ran), which a retry outlives.
        return error.isConnectionLoss || error.code.sqlClass == "53" || error.code == .readOnlySQLTransaction
            || error.code == .undefinedTable || error.code == "42703"
    }

    /// Checks the database, giving up after `timeout` so a hung server reads as not ready.
    public func check(timeout: Duration = .seconds(2)) async -> Report {
        let (runner, lagLimit) = (self.runner, self.lagLimit)
        let report = await within(timeout) {
            do {
                let status = try await runner.status()
                if status.isCurrent, let lagLimit {
                    let lag = try await ReplicaLag.measure(primary: lagLimit.primary, replica: lagLimit.replica)
                    let limit = Double(lagLimit.maximum.components.seconds)
                    guard lag.seconds <= limit else {
                        let reason = "the replica is \(Int(lag.seconds)) s (\(lag.bytes) bytes) behind the primary, over the limit of \(Int(limit)) s"
                        return Report(reachable: true, migrated: true, caughtUp: false, reason: reason)
                    }
                }
                if status.isCurrent { return Report(reachable: true, migrated: true) }
                let reason =
                    status.edited.isEmpty
                    ? "migrations pending: \(status.pending.map(String.init).joined(separator: ", "))"
                    : "applied migrations were edited: \(status.edited.map(String.init).joined(separator: ", "))"
                return Report(reachable: true, migrated: false, reason: reason)
            } catch {
                return Report(reachable: false, migrated: false, reason: "database unreachable: \(error)")
            }
        }
        return report ?? Report(reachable: false, migrated: false, reason: "database did not answer within \(timeout)")
    }
}

extension DatabaseHealth {
    /// Ready when every check is (the primary, and the replica the query API reads from); the
    /// first failing check's reason otherwise.
    public static func combined(_ checks: [DatabaseHealth]) async -> Report {
        for check in checks {
            let report = await check.check()
            if !report.isReady { return report }
        }
        return Report(reachable: true, migrated: true)
    }
}
