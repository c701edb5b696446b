import ArgumentParser
import Foundation
import Logging
import Postgres

/// Where the database is: `--database-url` / `DATABASE_URL`, or the embedded development cluster.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp("PostgreSQL to use, as a libpq URI or conninfo (env: DATABASE_URL). Unset: the embedded development database.", valueName: "url"))
    var databaseURL: String?

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp("Directory of the embedded development database (env: BILLING_EVENTS_DATA_DIR).", valueName: "path"))
    var dataDirectory: String?

    @Option(help: ArgumentHelp("Most database connections this process opens (env: DATABASE_POOL_SIZE).", valueName: "n"))
    var poolSize: Int?

    /// The connection settings, starting the embedded cluster when no URL is given.
    func resolve(logger: Logger) async throws -> PostgresConfiguration {
        let environment = ProcessInfo.processInfo.environment
        if let url = databaseURL ?? environment["DATABASE_URL"], !url.isEmpty {
            let configuration = PostgresConfiguration(connectionString: url)
            try configuration.validate()
            logger.info("using database", metadata: ["database": "\(configuration.redactedDescription)"])
            return configuration
        }
        let directory = dataDirectory ?? environment["BILLING_EVENTS_DATA_DIR"] ?? ".billing-events"
        let cluster = EmbeddedPostgres(options: .init(dataDirectory: directory + "/postgres"))
        let configuration = try await cluster.start(logger: logger)
        logger.info(
            "using the embedded development database (set DATABASE_URL to use another server)",
            metadata: ["database": "\(configuration.redactedDescription)"])
        return configuration
    }

    /// Pool sizing from the flag or the environment.
    var poolOptions: PostgresPool.Options {
        let size = poolSize ?? ProcessInfo.processInfo.environment["DATABASE_POOL_SIZE"].flatMap { Int($0) } ?? 10
        return PostgresPool.Options(maxConnections: size)
    }
}
