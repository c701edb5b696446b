import BillingCore
import BillingHTTP
import BillingStore
import Hummingbird
import Logging
import Postgres
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The composition root of `serve`: which pools, which replica, which roles, the health checks,
/// the metrics and the order services start and stop in. The executable only parses its flags
/// and runs what this returns; tests call it in-process.
public enum BillingService {
    /// The metrics of every layer, recording into one Prometheus registry.
    public struct Metrics: Sendable {
        /// The registry behind `/metrics`.
        public var registry: PrometheusCollectorRegistry
        /// The factory recording into it.
        public var factory: PrometheusMetricsFactory
        /// Requests and webhook deliveries.
        public var http: HTTPMetrics
        /// Projections and the database's gauges.
        public var store: StoreMetrics
    }

    /// The Prometheus registry behind `/metrics` and the service's metrics recording into it.
    /// HTTP latency buckets start at 1 ms: webhooks answer in a few. Nothing process-wide is
    /// touched (the executable also installs `factory` as swift-metrics' backend).
    public static func metrics() -> Metrics {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["billing_events_http_request_duration_seconds"] = [
            .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .microseconds(2_500_000), .seconds(5), .seconds(10),
        ]
        return Metrics(registry: registry, factory: factory, http: HTTPMetrics(factory: factory), store: StoreMetrics(factory: factory))
    }

    /// The HTTP application of `serve` for the roles in `settings`: webhooks through `ingestor`
    /// (nil: no receiver), the query API reading `queryPool` (keys and cursors on `pool`), health
    /// from `readiness`, `/metrics` after `refresh`. The caller runs the pools and the ingestor.
    public static func application(
        _ settings: ServeSettings, pool: PostgresPool, queryPool: PostgresPool, ingestor: EventIngestor?,
        readiness: @escaping HealthController<AppRequestContext>.Readiness, metrics: Metrics,
        refresh: @escaping MetricsController<AppRequestContext>.Refresh = {}, logger: Logger
    ) -> some ApplicationProtocol {
        let queryStore = QueryStore(pool: queryPool)
        return buildApplication(
            configuration: HTTPConfiguration(
                host: settings.host, port: settings.port, idleTimeout: settings.idleTimeout, readTimeout: settings.readTimeout),
            readiness: readiness,
            webhooks: ingestor.map {
                WebhookController(
                    intake: WebhookIntake(secrets: settings.secrets), ingestor: $0, maximumBodyBytes: settings.maximumBodyBytes,
                    metrics: metrics.http)
            },
            queries: settings.roles.contains(.api)
                ? QueryController(
                    store: queryStore, keys: APIKeyStore(pool: pool), cursors: CursorSigning { try await queryStore.cursorSigningKey() },
                    positionTimeout: settings.positionTimeout)
                : nil,
            metrics: metrics.http,
            exposition: MetricsController(registry: metrics.registry, refresh: refresh),
            logger: logger)
    }

    /// Connects, applies migrations when asked, and returns the service group that runs the HTTP
    /// server with the roles asked for, the projector and the pools until SIGTERM or SIGINT (or
    /// until the group is cancelled).
    public static func services(
        _ settings: ServeSettings, metrics: Metrics, logger: Logger
    ) async throws -> ServiceGroup {
        var projectorOptions = settings.projectorOptions
        projectorOptions.metrics = metrics.store
        // Session work (the projector's lease and LISTEN, the migrations' lock) goes to a database
        // that keeps sessions; the pools may go through a transaction pooler.
        let session = settings.sessionDatabase ?? settings.database
        let sessionName = settings.sessionDatabase == nil ? "DATABASE_URL" : "SESSION_DATABASE_URL"
        warnUnlessPrimaryIsChosen(settings.database, named: "DATABASE_URL", logger: logger)
        if let sessionDatabase = settings.sessionDatabase {
            warnUnlessPrimaryIsChosen(sessionDatabase, named: "SESSION_DATABASE_URL", logger: logger)
        }
        var sessionsKept = false
        if settings.roles.contains(.projector) {
            sessionsKept = try await requireSession(session, named: sessionName, for: "the projector", logger: logger)
        } else if settings.migrate {
            sessionsKept = try await requireSession(
                session, named: sessionName, for: "migrating at start-up (or run with --no-migrate)", logger: logger)
        }
        // When that check already probed DATABASE_URL itself, `auto` needs no second probe.
        let probed = sessionsKept && settings.sessionDatabase == nil && settings.preparedStatements == .auto
        let database =
            probed ? settings.database : await pooled(settings.database, settings.preparedStatements, named: "DATABASE_URL", logger: logger)
        let pool = PostgresPool(configuration: database, options: settings.poolOptions, logger: logger)
        let runner = MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: logger)
        if settings.migrate {
            _ = try await PostgresPool.withPool(session, options: .init(maxConnections: 1), logger: logger) { sessionPool in
                try await MigrationRunner(pool: sessionPool, migrations: try Migration.bundled(), logger: logger).migrate()
            }
        }
        var readPool: PostgresPool?
        var checks = [DatabaseHealth(runner: runner)]
        if settings.roles.contains(.api), let url = settings.readDatabaseURL {
            let readConfiguration = PostgresConfiguration(connectionString: url)
            try readConfiguration.validate()
            logger.info("query API reads from a replica", metadata: ["database": "\(readConfiguration.redactedDescription)"])
            let replica = PostgresPool(
                configuration: await pooled(readConfiguration, settings.preparedStatements, named: "READ_DATABASE_URL", logger: logger),
                options: settings.poolOptions, logger: logger)
            checks.append(
                DatabaseHealth(
                    runner: MigrationRunner(pool: replica, migrations: try Migration.bundled(), logger: logger),
                    lagLimit: .init(replica: replica, primary: pool, maximum: settings.readMaximumLag)))
            readPool = replica
        }
        let ingestor =
            settings.roles.contains(.receiver) ? EventIngestor(pool: pool, options: settings.ingestorOptions, logger: logger) : nil
        if ingestor != nil {
            for provider in settings.secrets.unconfiguredProviders {
                logger.warning(
                    "no webhook secret configured; deliveries will be refused with 401",
                    metadata: ["provider": "\(provider.rawValue)", "set": "\(provider.environmentPrefix)_WEBHOOK_SECRETS"])
            }
        }
        let probe = OperationsProbe(pool: pool, readPool: readPool, ingestor: ingestor, metrics: metrics.store)
        let application = Self.application(
            settings, pool: pool, queryPool: readPool ?? pool, ingestor: ingestor, readiness: { [checks] in await DatabaseHealth.combined(checks) },
            metrics: metrics, refresh: { await probe.refresh() }, logger: logger)
        // Shut down in reverse order: the server stops accepting and finishes its requests, the
        // projector finishes its batch, the ingestor flushes the delivery log, then the pools close.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: pool)]
        if let readPool { services.append(.init(service: readPool)) }
        if let ingestor { services.append(.init(service: ingestor)) }
        if settings.roles.contains(.projector) {
            services.append(.init(service: Projector(configuration: session, options: projectorOptions, logger: logger)))
        }
        services.append(.init(service: application, successTerminationBehavior: .gracefullyShutdownGroup))
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = settings.shutdownGrace
        group.maximumCancellationDuration = .seconds(5)
        logger.info(
            "starting",
            metadata: [
                "listen": "http://\(settings.host):\(settings.port)", "database": "\(settings.database.redactedDescription)",
                "roles": "\(ServeRole.allCases.filter(settings.roles.contains).map(\.rawValue).joined(separator: ","))",
            ])
        return ServiceGroup(configuration: group)
    }
}
