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

    /// Creates settings; the defaults are `serve`'s.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, roles: Set<ServeRole> = Set(ServeRole.allCases), database: PostgresConfiguration,
        poolOptions: PostgresPool.Options = .init(maxConnections: 10), readDatabaseURL: String? = nil, migrate: Bool = true,
        secrets: WebhookSecrets, maximumBodyBytes: Int = 1 << 20, ingestorOptions: EventIngestor.Options = .init(),
        projectorOptions: ProjectionOptions = .init(), positionTimeout: Duration = .seconds(5), shutdownGrace: Duration = .seconds(25),
        idleTimeout: Duration = .seconds(30), readTimeout: Duration = .seconds(30)
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
