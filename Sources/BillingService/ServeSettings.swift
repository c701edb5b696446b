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
    /// The primary database: the log, the read models, the projector's checkpoints.
    public var database: PostgresConfiguration
    /// The size of each pool.
    public var poolOptions: PostgresPool.Options
    /// A replica for the query API, when set.
    public var readDatabaseURL: String?
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
    }

    /// Creates settings; the defaults are `serve`'s (``Defaults``, `EventIngestor.Options()`,
    /// `ProjectionOptions()`).
    public init(
        host: String = Defaults.host, port: Int = Defaults.port, roles: Set<ServeRole> = Set(ServeRole.allCases),
        database: PostgresConfiguration, poolOptions: PostgresPool.Options = .init(maxConnections: Defaults.poolSize),
        readDatabaseURL: String? = nil, migrate: Bool = true, secrets: WebhookSecrets, maximumBodyBytes: Int = Defaults.maximumBodyBytes,
        ingestorOptions: EventIngestor.Options = .init(), projectorOptions: ProjectionOptions = .init(),
        positionTimeout: Duration = .milliseconds(Defaults.positionTimeoutMilliseconds),
        shutdownGrace: Duration = .seconds(Defaults.shutdownGraceSeconds), idleTimeout: Duration = .seconds(Defaults.idleTimeoutSeconds),
        readTimeout: Duration = .seconds(Defaults.readTimeoutSeconds)
    ) {
        self.host = host
        self.port = port
        self.roles = roles
        self.database = database
        self.poolOptions = poolOptions
        self.readDatabaseURL = readDatabaseURL
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
