import ArgumentParser
import BillingCore
import BillingHTTP
import BillingStore
import Foundation
import Hummingbird
import Logging
import Metrics
import Postgres
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The process-wide logger; the handler (text or JSON) and level come from `LOG_FORMAT` and
/// `LOG_LEVEL`, installed on first use.
func makeLogger() -> Logger {
    LogOutput.bootstrap
    return Logger(label: "billing-events")
}

/// The Prometheus registry behind `/metrics` and the service's metrics recording into it (also the
/// process-wide swift-metrics backend). HTTP latency buckets start at 1 ms: webhooks answer in a few.
func makeMetrics() -> (PrometheusCollectorRegistry, ServiceMetrics) {
    let registry = PrometheusCollectorRegistry()
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.durationHistogramBuckets["billing_events_http_request_duration_seconds"] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .microseconds(2_500_000), .seconds(5), .seconds(10),
    ]
    MetricsSystem.bootstrap(factory)
    return (registry, ServiceMetrics(factory: factory))
}

/// Connects, optionally migrates, and runs the HTTP server with the roles asked for, the
/// projector and the pools until SIGTERM or SIGINT.
func runServe(_ settings: ServeSettings, database: DatabaseOptions, receiver: ReceiverOptions, projector: ProjectorOptions) async throws {
    let logger = makeLogger()
    let secrets = try receiver.secrets
    let maximumBodyBytes = try receiver.maximumBodyBytes
    let ingestorOptions = try receiver.ingestorOptions
    var projectorOptions = try projector.options
    let (registry, metrics) = makeMetrics()
    projectorOptions.metrics = metrics

    let configuration = try await database.resolve(logger: logger)
    let pool = PostgresPool(configuration: configuration, options: database.poolOptions, logger: logger)
    let runner = MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: logger)
    if settings.migrate {
        try await runner.migrate()
    }
    var readPool: PostgresPool?
    var checks = [DatabaseHealth(runner: runner)]
    if settings.roles.contains(.api), let url = settings.readDatabaseURL {
        let readConfiguration = PostgresConfiguration(connectionString: url)
        try readConfiguration.validate()
        logger.info("query API reads from a replica", metadata: ["database": "\(readConfiguration.redactedDescription)"])
        let replica = PostgresPool(configuration: readConfiguration, options: database.poolOptions, logger: logger)
        checks.append(DatabaseHealth(runner: MigrationRunner(pool: replica, migrations: try Migration.bundled(), logger: logger)))
        readPool = replica
    }
    let ingestor = settings.roles.contains(.receiver) ? EventIngestor(pool: pool, options: ingestorOptions, logger: logger) : nil
    if ingestor != nil {
        for provider in secrets.unconfiguredProviders {
            logger.warning(
                "no webhook secret configured; deliveries will be refused with 401",
                metadata: ["provider": "\(provider.rawValue)", "set": "\(provider.environmentPrefix)_WEBHOOK_SECRETS"])
        }
    }
    let queryStore = QueryStore(pool: readPool ?? pool)
    let probe = OperationsProbe(pool: pool, readPool: readPool, ingestor: ingestor, metrics: metrics)
    let application = buildApplication(
        configuration: HTTPConfiguration(
            host: settings.host, port: settings.port, idleTimeout: settings.idleTimeout, readTimeout: settings.readTimeout),
        readiness: { [checks] in await DatabaseHealth.combined(checks) },
        webhooks: ingestor.map {
            WebhookController(intake: WebhookIntake(secrets: secrets), ingestor: $0, maximumBodyBytes: maximumBodyBytes, metrics: metrics)
        },
        queries: settings.roles.contains(.api)
            ? QueryController(
                store: queryStore, keys: APIKeyStore(pool: pool), cursors: CursorSigning { try await queryStore.cursorSigningKey() },
                positionTimeout: settings.positionTimeout)
            : nil,
        metrics: metrics,
        exposition: MetricsController(registry: registry) { await probe.refresh() },
        logger: logger)
    // Shut down in reverse order: the server stops accepting and finishes its requests, the
    // projector finishes its batch, the ingestor flushes the delivery log, then the pools close.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: pool)]
    if let readPool { services.append(.init(service: readPool)) }
    if let ingestor { services.append(.init(service: ingestor)) }
    if settings.roles.contains(.projector) {
        services.append(.init(service: Projector(configuration: configuration, options: projectorOptions, logger: logger)))
    }
    services.append(.init(service: application, successTerminationBehavior: .gracefullyShutdownGroup))
    var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    group.maximumGracefulShutdownDuration = settings.shutdownGrace
    group.maximumCancellationDuration = .seconds(5)
    logger.info(
        "starting",
        metadata: [
            "listen": "http://\(settings.host):\(settings.port)", "database": "\(configuration.redactedDescription)",
            "roles": "\(ServeRole.allCases.filter(settings.roles.contains).map(\.rawValue).joined(separator: ","))",
        ])
    try await ServiceGroup(configuration: group).run()
    logger.info("stopped")
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
        } catch let error as BackfillError where error.code == .concurrentRun {
            // Said once, here: the command exits 1 without the argument parser repeating it.
            display.finish()
            FileHandle.standardError.write(Data("backfill of \(file): \(error.message)\n".utf8))
            throw ExitCode.failure
        } catch {
            display.finish()
            FileHandle.standardError.write(
                Data(
                    """
                    backfill of \(file) stopped: \(error)
                    the batches before this point are committed; run the same command again to continue from there

                    """.utf8))
            // A server error goes on to `reportingErrors` for its detail; anything else was said in full.
            if error is PostgresError { throw error }
            throw ExitCode.failure
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
        FileHandle.standardError.write(
            Data(
                "error: \(error.message) (SQLSTATE \(error.code))\(error.detail.map { "\n  detail: \($0)" } ?? "")\(error.hint.map { "\n  hint: \($0)" } ?? "")\n"
                    .utf8))
        throw ExitCode.failure
    }
}
