import ArgumentParser
import BillingService
import Foundation
import Postgres

/// `billing-events serve`: the HTTP server with its background work.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: webhook receiver, projections, the query API (/v1) and health endpoints.",
        discussion: """
            Webhooks: POST /webhooks/{flexprice|mintcash|mintfax}[/{live|test}], signed with the secrets in FLEXPRICE_WEBHOOK_SECRETS, MINTCASH_WEBHOOK_SECRETS, MINTFAX_WEBHOOK_SECRETS (comma-separated, several during rotation) or <PROVIDER>_<LIVE|TEST>_WEBHOOK_SECRETS for one environment. A provider without a secret is refused (401) and named at start-up.

            Query API: GET /v1/customers, /v1/subscriptions, /v1/payments, /v1/wallets (and /v1/wallets/{id}/transactions), /v1/events, each with /{id}; Authorization: Bearer <token> from `billing-events api-keys create`. Lists take limit (1-100), order (desc|asc), cursor and filters; every answer carries the Billing-Events-Position header, and min_position=N waits until the read models have applied every event up to position N.

            Projections (customers, subscriptions, payments, wallets) follow the log in commit order; with several instances, one runs each projection and the others stand by. See `billing-events projections --help`.

            Roles: --role (env: ROLE) runs a subset of receiver, projector and api, so receivers and API servers can run side by side behind a load balancer against one PostgreSQL, and the query API can read from a replica (--read-database-url). Every role serves /livez, /readyz and /metrics (Prometheus text).

            Topology (docs/deployment.md): --database-url may list several hosts with target_session_attrs=read-write (libpq finds the primary again after a failover; receivers answer 503 meanwhile) or be PgBouncer in transaction mode (prepared statements are then turned off, see --prepared-statements). Projectors and start-up migrations need a session of their own: --session-database-url points them at the primary directly. min_position is checked on the replica that answers; --read-max-lag-seconds takes a lagging replica's API server out of /readyz.

            Logs go to standard error: text lines (LOG_FORMAT=text, the default; coloured on a terminal) or JSON lines (LOG_FORMAT=json), at LOG_LEVEL (trace, debug, info, notice, warning, error; default info). Every line of a request carries its request_id, taken from X-Request-Id or generated, and returned in X-Request-Id. Secrets, tokens, signatures and bodies are never logged.

            Slow or idle clients are cut off: a connection that sends nothing for --idle-timeout-seconds is closed, and a request whose body has not arrived within --read-timeout-seconds of its head is answered 408 and its connection closed; headers over 80 KiB are answered 400.

            Stops gracefully on SIGTERM or SIGINT: the listener closes, in-flight requests finish (each is committed and acknowledged, or not acknowledged), each projection finishes its batch, the delivery log is flushed, the pools close, and the process exits 0. What is still running when the grace period ends is cancelled (its requests are not acknowledged).
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup(title: "Webhook receiver") var receiver: ReceiverOptions
    @OptionGroup(title: "Projections") var projector: ProjectorOptions

    @Option(
        help: ArgumentHelp(
            "Longest wait of a query with min_position before it answers 503 (env: QUERY_POSITION_TIMEOUT_MS; default \(ServeSettings.Defaults.positionTimeoutMilliseconds)).",
            valueName: "ms"))
    var queryPositionTimeoutMs: Int?

    @Option(help: ArgumentHelp("Address to listen on (env: HOST; default \(ServeSettings.Defaults.host)).", valueName: "address"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on (env: PORT; default \(ServeSettings.Defaults.port)).", valueName: "port"))
    var port: Int?

    @Option(help: ArgumentHelp("Parts to run, comma-separated: receiver, projector, api (env: ROLE; default all three).", valueName: "roles"))
    var role: String?

    @Option(
        name: .customLong("session-database-url"),
        help: ArgumentHelp(
            "PostgreSQL primary reached directly (or through a pooler in session mode) for the work that needs a session of its own: projector leadership and LISTEN, start-up migrations (env: SESSION_DATABASE_URL; default: the database URL). serve refuses to start when that work would go through a pooler in transaction mode.",
            valueName: "url"))
    var sessionDatabaseURL: String?

    @Option(
        help: ArgumentHelp(
            "Keep named prepared statements on the server: auto (on, unless a start-up probe finds a pooler in transaction mode such as PgBouncer before 1.21), on or off (env: DATABASE_PREPARED_STATEMENTS; default auto).",
            valueName: "auto|on|off"))
    var preparedStatements: String?

    @Option(
        help: ArgumentHelp(
            "Replica lag over which the api role's /readyz answers 503 (env: READ_MAX_LAG_SECONDS; default \(ServeSettings.Defaults.readMaximumLagSeconds)).",
            valueName: "seconds"))
    var readMaxLagSeconds: Int?

    @Option(
        name: .customLong("read-database-url"),
        help: ArgumentHelp(
            "PostgreSQL (a replica) the query API reads from (env: READ_DATABASE_URL; default: the primary). API keys are looked up there too.",
            valueName: "url"))
    var readDatabaseURL: String?

    @Option(
        help: ArgumentHelp(
            "Longest graceful shutdown before in-flight work is cancelled (env: SHUTDOWN_GRACE_SECONDS; default \(ServeSettings.Defaults.shutdownGraceSeconds)).",
            valueName: "seconds"))
    var shutdownGraceSeconds: Int?

    @Option(
        help: ArgumentHelp(
            "Close a connection that has sent nothing (no request in progress, or a request head still incomplete) for this long (env: HTTP_IDLE_TIMEOUT_SECONDS; default \(ServeSettings.Defaults.idleTimeoutSeconds)).",
            valueName: "seconds"))
    var idleTimeoutSeconds: Int?

    @Option(
        help: ArgumentHelp(
            "Answer 408 and close the connection when a request's body has not arrived in full this long after its head (env: HTTP_READ_TIMEOUT_SECONDS; default \(ServeSettings.Defaults.readTimeoutSeconds)).",
            valueName: "seconds"))
    var readTimeoutSeconds: Int?

    @Flag(help: "Do not apply pending migrations at start-up (/readyz stays false until they are applied).")
    var noMigrate = false

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let port = port ?? Int(environment["PORT"] ?? String(ServeSettings.Defaults.port)), (0...65535).contains(port) else {
            throw ValidationError("PORT must be a number between 0 and 65535")
        }
        let roles = try ServeRole.parse(role ?? environment["ROLE"].flatMap { $0.isEmpty ? nil : $0 } ?? "receiver,projector,api")
            .mapError { ValidationError($0.description) }.get()
        let positionTimeout = try Setting.positive(
            queryPositionTimeoutMs, "QUERY_POSITION_TIMEOUT_MS", default: ServeSettings.Defaults.positionTimeoutMilliseconds)
        let shutdownGrace = try Setting.positive(shutdownGraceSeconds, "SHUTDOWN_GRACE_SECONDS", default: ServeSettings.Defaults.shutdownGraceSeconds)
        let idleTimeout = try Setting.positive(idleTimeoutSeconds, "HTTP_IDLE_TIMEOUT_SECONDS", default: ServeSettings.Defaults.idleTimeoutSeconds)
        let readTimeout = try Setting.positive(readTimeoutSeconds, "HTTP_READ_TIMEOUT_SECONDS", default: ServeSettings.Defaults.readTimeoutSeconds)
        let readMaximumLag = try Setting.positive(readMaxLagSeconds, "READ_MAX_LAG_SECONDS", default: ServeSettings.Defaults.readMaximumLagSeconds)
        let prepared = try Setting.choice(preparedStatements, "DATABASE_PREPARED_STATEMENTS", default: ServeSettings.PreparedStatements.auto)
        let sessionURL = sessionDatabaseURL ?? environment["SESSION_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if sessionURL != nil, database.databaseURL ?? environment["DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) == nil {
            // The receivers and the API would use the embedded database, the projector another one.
            throw ValidationError("SESSION_DATABASE_URL is set but DATABASE_URL is not: set both to the same primary")
        }
        let session = sessionURL.map { PostgresConfiguration(connectionString: $0) }
        try await reportingErrors {
            try session?.validate()
            let (secrets, maximumBodyBytes) = (try receiver.secrets, try receiver.maximumBodyBytes)
            let (ingestorOptions, projectorOptions, poolOptions) = (try receiver.ingestorOptions, try projector.options, try database.poolOptions)
            // The embedded database starts only once every setting is valid.
            let logger = makeLogger()
            let settings = ServeSettings(
                host: host ?? environment["HOST"] ?? ServeSettings.Defaults.host, port: port, roles: roles,
                database: try await database.resolve(logger: logger, session: false), sessionDatabase: session,
                preparedStatements: prepared, poolOptions: poolOptions,
                readDatabaseURL: readDatabaseURL ?? environment["READ_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 },
                readMaximumLag: .seconds(readMaximumLag),
                migrate: !noMigrate, secrets: secrets, maximumBodyBytes: maximumBodyBytes, ingestorOptions: ingestorOptions,
                projectorOptions: projectorOptions, positionTimeout: .milliseconds(positionTimeout), shutdownGrace: .seconds(shutdownGrace),
                idleTimeout: .seconds(idleTimeout), readTimeout: .seconds(readTimeout))
            try await runServe(settings, logger: logger)
        }
    }
}
