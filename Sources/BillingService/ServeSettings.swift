import BillingCore
import BillingStore
import Postgres

/// Everything `serve` runs with, resolved from flags and the environment by the executable (or
/// made by a test): ``BillingService/services(_:metrics:logger:)`` turns it into services.
public struct ServeSettings: Sendable {
    /// The address to listen on.
    public var host: String
    /// The port (0: any free one).
    public var port: Int
    /// The parts of the service to run.
    public var roles: Set<ServeRole>
    /// The primary database: the log, the read models, the projector's checkpoints. May be a
    /// pooler in transaction mode (see ``preparedStatements``) or list several hosts with
    /// `target_session_attrs=read-write`, so libpq finds the primary after a failover.
    public var database: PostgresConfiguration
    /// A connection to the primary that keeps its session (PostgreSQL itself, or a pooler in session
    /// mode), for the work that needs one: projector leadership and `LISTEN`, and migrations. Nil:
    /// ``database``.
    public var sessionDatabase: PostgresConfiguration?
    /// Whether pooled connections keep named prepared statements on the server.
    public var preparedStatements: PreparedStatements
    /// The size of each pool.
    public var poolOptions: PostgresPool.Options
    /// A replica for the query API, when set.
    public var readDatabaseURL: String?
    /// A replica further behind than this makes `/readyz` answer 503.
    public var readMaximumLag: Duration
    /// Whether pending migrations are applied at start-up.
    public var migrate: Bool
    /// The webhook secrets of every provider and environment.
    public var secrets: WebhookSecrets
    /// The largest webhook body accepted.
    public var maximumBodyBytes: Int
    /// How the receiver batches commits.
    public var ingestorOptions: EventIngestor.Options
    /// How the projector runs.
    public var projectorOptions: ProjectionOptions
    /// How long `min_position` waits before 503.
    public var positionTimeout: Duration
    /// How long SIGTERM waits for requests and batches in flight.
    public var shutdownGrace: Duration
    /// How long an idle connection stays open.
    public var idleTimeout: Duration
    /// How long a request's body may take to arrive after its head.
    public var readTimeout: Duration

    /// Whether pooled connections prepare their statements on the server: faster on PostgreSQL,
    /// impossible through a pooler in transaction mode (PgBouncer before 1.21 has no protocol-level
    /// prepared statements), where each transaction may run on another server session.
    public enum PreparedStatements: String, Sendable, CaseIterable {
        /// On, unless a start-up probe finds a pooler that shares server sessions (or cannot reach
        /// the database, when off is the choice that works everywhere).
        case auto
        /// Always prepared (PostgreSQL directly, or a pooler in session mode).
        case on
        /// Never: unnamed statements only.
        case off
    }

    /// `serve`'s defaults: the one home of each (the command line's flags and their help use these).
    public enum Defaults {
        /// Listening address.
        public static let host = "127.0.0.1"
        /// Listening port.
        public static let port = 8080
        /// Most connections of the primary's pool (and of the replica's).
        public static let poolSize = 10
        /// Largest accepted webhook body in bytes.
        public static let maximumBodyBytes = 1 << 20
        /// Longest wait of a query with `min_position`, in milliseconds.
        public static let positionTimeoutMilliseconds = 5000
        /// Longest graceful shutdown, in seconds.
        public static let shutdownGraceSeconds = 25
        /// Idle connection timeout, in seconds.
        public static let idleTimeoutSeconds = 30
        /// Longest wait for a request's body after its head, in seconds.
        public static let readTimeoutSeconds = 30
        /// Most replica lag before `/readyz` answers 503, in seconds.
        public static let readMaximumLagSeconds = 30
    }

    /// Creates settings; the defaults are `serve`'s (``Defaults``, `EventIngestor.Options()`,
    /// `ProjectionOptions()`).
    public init(
        host: String = Defaults.host, port: Int = Defaults.port, roles: Set<ServeRole> = Set(ServeRole.allCases),
        database: PostgresConfiguration, sessionDatabase: PostgresConfiguration? = nil, preparedStatements: PreparedStatements = .auto,
        poolOptions: PostgresPool.Options = .init(maxConnections: Defaults.poolSize), readDatabaseURL: String? = nil,
        readMaximumLag: Duration = .seconds(Defaults.readMaximumLagSeconds), migrate: Bool = true, secrets: WebhookSecrets,
        maximumBodyBytes: Int = Defaults.maximumBodyBytes,
        ingestorOptions: EventIngestor.Options = .init(), projectorOptions: ProjectionOptions = .init(),
        positionTimeout: Duration = .milliseconds(Defaults.positionTimeoutMilliseconds),
        shutdownGrace: Duration = .seconds(Defaults.shutdownGraceSeconds), idleTimeout: Duration = .seconds(Defaults.idleTimeoutSeconds),
        readTimeout: Duration = .seconds(Defaults.readTimeoutSeconds)
    ) {
        self.host = host
        self.port = port
        self.roles = roles
        self.database = database
        self.sessionDatabase = sessionDatabase
        self.preparedStatements = preparedStatements
        self.poolOptions = poolOptions
        self.readDatabaseURL = readDatabaseURL
        self.readMaximumLag = readMaximumLag
        self.migrate = migrate
        self.secrets = secrets
        self.maximumBodyBytes = maximumBodyBytes
        self.ingestorOptions = ingestorOptions
        self.projectorOptions = projectorOptions
        self.positionTimeout = positionTimeout
        self.shutdownGrace = shutdownGrace
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
    }
}
