import ArgumentParser
import BillingCore
import BillingHTTP
import BillingStore
import Foundation
import Hummingbird
import Logging
import Postgres
import ServiceLifecycle
import UnixSignals

/// The process-wide logger: level from `LOG_LEVEL` (default `info`).
func makeLogger() -> Logger {
    var logger = Logger(label: "billing-events")
    logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
    return logger
}

/// Connects, optionally migrates, and runs the HTTP server and the pool until SIGTERM or SIGINT.
func runServe(
    database: DatabaseOptions, receiver: ReceiverOptions, projector: ProjectorOptions, positionTimeout: Duration, host: String, port: Int, migrate: Bool
) async throws {
    let logger = makeLogger()
    let secrets = receiver.secrets
    let maximumBodyBytes = try receiver.maximumBodyBytes
    let ingestorOptions = try receiver.ingestorOptions
    let projectorOptions = try projector.options
    let configuration = try await database.resolve(logger: logger)
    let pool = PostgresPool(configuration: configuration, options: database.poolOptions, logger: logger)
    let runner = MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: logger)
    if migrate {
        try await runner.migrate()
    }
    let health = DatabaseHealth(runner: runner)
    let ingestor = EventIngestor(pool: pool, options: ingestorOptions, logger: logger)
    let projections = Projector(configuration: configuration, options: projectorOptions, logger: logger)
    let queryStore = QueryStore(pool: pool)
    for provider in secrets.unconfiguredProviders {
        logger.warning(
            "no webhook secret configured; deliveries will be refused with 401",
            metadata: ["provider": "\(provider.rawValue)", "set": "\(provider.environmentPrefix)_WEBHOOK_SECRETS"])
    }
    let application = buildApplication(
        configuration: HTTPConfiguration(host: host, port: port),
        readiness: { await health.check() },
        webhooks: WebhookController(intake: WebhookIntake(secrets: secrets), ingestor: ingestor, maximumBodyBytes: maximumBodyBytes),
        queries: QueryController(
            store: queryStore, keys: APIKeyStore(pool: pool), cursors: CursorSigning { try await queryStore.cursorSigningKey() },
            positionTimeout: positionTimeout),
        logger: logger)
    // Shut down in reverse order: the server stops accepting and finishes its requests, the
    // projector finishes its batch, the ingestor flushes the delivery log, then the pool closes.
    let group = ServiceGroup(
        configuration: .init(
            services: [
                .init(service: pool), .init(service: ingestor), .init(service: projections),
                .init(service: application, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    logger.info("starting", metadata: ["listen": "http://\(host):\(port)", "database": "\(configuration.redactedDescription)"])
    try await group.run()
}

/// Runs an operator command's body with a small pool, closed afterwards.
func withPool(_ database: DatabaseOptions, _ body: (PostgresPool) async throws -> Void) async throws {
    let logger = makeLogger()
    let configuration = try await database.resolve(logger: logger)
    let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: logger)
    do {
        try await body(pool)
    } catch {
        await pool.close()
        throw error
    }
    await pool.close()
}

/// Applies pending migrations, or only reports them.
func runMigrate(database: DatabaseOptions, statusOnly: Bool) async throws {
    try await withPool(database) { pool in
        let runner = MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: makeLogger())
        if statusOnly {
            let status = try await runner.status()
            let list = { (versions: [Int]) in versions.map(String.init).joined(separator: ", ") }
            print("applied: \(list(status.applied))")
            print("pending: \(list(status.pending))")
            if !status.edited.isEmpty { print("edited after applying: \(list(status.edited))") }
            if !status.unknown.isEmpty { print("unknown to this build: \(list(status.unknown))") }
        } else {
            let applied = try await runner.migrate()
            print(applied.isEmpty ? "database is up to date" : "applied \(applied.map(\.name).joined(separator: ", "))")
        }
    }
}

/// Imports `files` one after the other (migrating the database first), with live progress on
/// standard error. `database` nil is a dry run: nothing is opened or written.
func runBackfill(files: [String], options: BackfillOptions, database: DatabaseOptions?) async throws -> [BackfillFileReport] {
    let logger = makeLogger()
    var configuration: PostgresConfiguration?
    if let database {
        try await withPool(database) { pool in
            try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: logger).migrate()
            configuration = pool.configuration
        }
    }
    let importer = BackfillImporter(configuration: configuration, options: options, logger: logger)
    var reports: [BackfillFileReport] = []
    for file in files {
        let display = BackfillProgressDisplay()
        defer { display.finish() }
        do {
            reports.append(try await importer.importFile(file) { display.update($0) })
        } catch {
            display.finish()
            FileHandle.standardError.write(Data("""
                backfill of \(file) stopped: \(error)
                the batches before this point are committed; run the same command again to continue from there

                """.utf8))
            throw error
        }
    }
    return reports
}

/// Runs a command body; a failure is printed in full (error descriptions are redacted for logs,
/// but the operator at the terminal needs the server's message) and exits with status 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as PostgresError {
        FileHandle.standardError.write(Data("error: \(error.message) (SQLSTATE \(error.code))\(error.detail.map { "\n  detail: \($0)" } ?? "")\(error.hint.map { "\n  hint: \($0)" } ?? "")\n".utf8))
        throw ExitCode.failure
    }
}
