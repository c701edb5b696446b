import BillingCore
import CoreMetrics

/// The store's metrics, recorded through swift-metrics into the factory given (the Prometheus
/// registry behind `/metrics` in `serve`; a no-op by default, so tests and commands need none):
/// projections and the values ``OperationsProbe`` reads at each scrape. Their names and help live
/// here, the HTTP layer's in `HTTPMetrics`; `docs/deployment.md` ("Metrics") lists both.
public struct StoreMetrics: Sendable {
    /// Where metrics go.
    public let factory: any MetricsFactory

    /// Creates the metrics over `factory`.
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// The `# HELP` text of each family recorded here, by name: `/metrics` writes it above the
    /// family (swift-metrics has no place for it, and `promtool check metrics` requires it).
    public static let help: [String: String] = [
        "billing_events_projection_active": "1 while this process runs the projection, 0 while it stands by.",
        "billing_events_projection_events_applied_total": "Events this process's projection runners applied.",
        "billing_events_projection_lag_events": "Committed events of the projection's kinds after its checkpoint (shared: read from the database).",
        "billing_events_projection_lag_seconds": "Age of the oldest event the projection has not applied, 0 when caught up (shared).",
        "billing_events_projection_dead_letters": "Events parked because they failed to project (shared).",
        "billing_events_oldest_transaction_seconds":
            "Age of the oldest open transaction holding a transaction id; the projector reads below it (shared).",
        "billing_events_quarantine_open": "Verified deliveries not understood and not yet retried successfully (shared).",
        "billing_events_log_position": "The newest event's position in the log (shared).",
        "billing_events_database_up": "1 when this scrape's database reading succeeded.",
        "billing_events_db_pool_connections": "Pooled database connections by pool and state.",
        "billing_events_db_pool_waiting": "Requests waiting for a pooled database connection.",
        "billing_events_db_pool_max": "The database pool's size.",
        "billing_events_delivery_log_buffered": "Delivery-log rows held in memory until the next write.",
        "billing_events_replica_lag_bytes": "WAL bytes the query API's replica has not replayed yet (READ_DATABASE_URL only).",
        "billing_events_replica_lag_seconds":
            "Age of the replica's newest replayed commit while it is behind, 0 when it has replayed all it received (READ_DATABASE_URL only).",
    ]

    /// Counts events a projection applied in this process.
    public func applied(_ count: Int, projection: Projection) {
        guard count > 0 else { return }
        Counter(label: "billing_events_projection_events_applied_total", dimensions: [("projection", projection.name)], factory: factory)
            .increment(by: count)
    }

    /// Whether this process runs `projection` (1) or stands by (0).
    public func projection(_ projection: Projection, active: Bool) {
        gauge("billing_events_projection_active", [("projection", projection.name)], active ? 1 : 0)
    }

    /// Sets a gauge (the values `OperationsProbe` reads at each scrape).
    public func gauge(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        Gauge(label: name, dimensions: labels, factory: factory).record(value)
    }
}
