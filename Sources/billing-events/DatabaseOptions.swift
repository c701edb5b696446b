import ArgumentParser
import BillingService
import Foundation
import Logging
import Postgres
import PostgresServer
import Synchronization

/// Where the database is: `--database-url` / `DATABASE_URL`, or the embedded development cluster.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL to use, as a libpq URI or conninfo (env: DATABASE_URL; operator commands prefer SESSION_DATABASE_URL when it is set). Unset: the embedded development database.",
            valueName: "url"))
    var databaseURL: String?

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp("Directory of the embedded development database (env: BILLING_EVENTS_DATA_DIR).", valueName: "path"))
    var dataDirectory: String?

    @Option(
        help: ArgumentHelp(
            "Most database connections this process opens (env: DATABASE_POOL_SIZE; default \(ServeSettings.Defaults.poolSize)).",
            valueName: "n"))
    var poolSize: Int?

    /// The connection settings, starting the embedded cluster when no URL is given. Operator
    /// commands (`session`) prefer `SESSION_DATABASE_URL` to `DATABASE_URL`; those whose `work`
    /// needs a session of its own (advisory locks across statements, temporary tables) refuse a URL
    /// that leads to a pooler in transaction mode.
    func resolve(logger: Logger, session: Bool = true, sessionWork work: String? = nil) async throws -> PostgresConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let sessionURL = session ? environment["SESSION_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } : nil
        if let url = databaseURL ?? sessionURL ?? environment["DATABASE_URL"], !url.isEmpty {
            let configuration = PostgresConfiguration(connectionString: url)
            try configuration.validate()
            if let work {
                let name = databaseURL != nil ? "--database-url" : sessionURL != nil ? "SESSION_DATABASE_URL" : "DATABASE_URL"
                try await BillingService.requireSession(configuration, named: name, for: work, logger: logger)
            }
            logger.info("using database", metadata: ["database": "\(configuration.redactedDescription)"])
            return configuration
        }
        let cluster = try await EmbeddedPostgres.forProject(Self.embeddedDirectory(dataDirectory), logger: logger)
        let configuration: PostgresConfiguration
        if embeddedLeases.withLock({ $0.contains { $0.cluster.options.dataDirectory == cluster.options.dataDirectory } }) {
            configuration = try await cluster.start(logger: logger)
        } else {
            let (acquired, lease) = try await cluster.acquire(logger: logger)
            configuration = acquired
            let first = embeddedLeases.withLock { leases in
                leases.append(lease)
                return leases.count == 1
            }
            // The process's last act: leave the cluster, stopping its server if this was its last user.
            if first { atexit { releaseEmbeddedLeases() } }
        }
        logger.info(
            "using the embedded development database (set DATABASE_URL to use another server)",
            metadata: ["database": "\(configuration.redactedDescription)", "cluster": "\(cluster.options.dataDirectory)"])
        return configuration
    }

    /// The project data directory: the flag, else `BILLING_EVENTS_DATA_DIR`, else `./.billing-events`.
    static func embeddedDirectory(_ flag: String?) -> String {
        flag ?? ProcessInfo.processInfo.environment["BILLING_EVENTS_DATA_DIR"] ?? ".billing-events"
    }

    /// Pool sizing from the flag or the environment (a positive number, else an error).
    var poolOptions: PostgresPool.Options {
        get throws {
            PostgresPool.Options(maxConnections: try Setting.positive(poolSize, "DATABASE_POOL_SIZE", default: ServeSettings.Defaults.poolSize))
        }
    }
}

/// The embedded clusters this process uses; released when it exits.
private let embeddedLeases = Mutex<[EmbeddedPostgres.Lease]>([])

/// Leaves every embedded cluster this process used.
private func releaseEmbeddedLeases() {
    let leases = embeddedLeases.withLock { leases in
        defer { leases = [] }
        return leases
    }
    let logger = makeLogger()
    for lease in leases { lease.release(logger: logger) }
}
