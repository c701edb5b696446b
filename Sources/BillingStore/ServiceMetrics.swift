import BillingCore
import CoreMetrics

/// The service's metrics, recorded through swift-metrics into the factory given (the Prometheus
/// registry behind `/metrics` in `serve`; a no-op by default, so tests and commands need none).
/// Every name and label lives here, so `docs/deployment.md` ("Metrics") can list them from one place. Label
/// values are bounded: provider names outside the known three count as `unknown`, reasons are the
/// service's own codes.
public struct ServiceMetrics: Sendable {
    /// Where metrics go.
    public let factory: any MetricsFactory

    /// Creates the metrics over `factory`.
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// The `# HELP` text of every metric family, by name: `/metrics` writes it above the family
    /// (swift-metrics has no place for it, and `promtool check metrics` requires it).
    public static let help: [String: String] = [
        "billing_events_webhook_deliveries_total": "Webhook requests by provider, how they ended (outcome) and why (reason code).",
        "billing_events_events_stored_total": "Events this process appended to the log, by provider.",
        "billing_events_http_request_duration_seconds":
            "Latency of answered HTTP requests by route template (unmatched: no route), method and status.",
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
    ]

    /// Counts one webhook request by provider, outcome and (for refusals and quarantine) reason
    /// code; a stored one also counts as an event stored. A known provider's route with an
    /// unknown environment counts as outcome `unknown_environment`: the provider exists, and an
    /// alert on `unknown_provider` (someone probing) should not fire for a misconfigured URL.
    public func delivery(provider: String, outcome: DeliveryOutcome, reason: String? = nil) {
        let outcomeLabel = outcome == .unknownProvider && reason == "unknown_environment" ? "unknown_environment" : outcome.rawValue
        countDelivery(provider: provider, outcome: outcomeLabel, reason: reason ?? "")
        if outcome == .stored {
            Counter(label: "billing_events_events_stored_total", dimensions: [("provider", Self.providerLabel(provider))], factory: factory)
                .increment()
        }
    }

    /// Counts a webhook request whose sender closed the connection before its body arrived in
    /// full (answered by nobody; HTTP status 499 in the request metrics and log).
    public func deliveryAbandoned(provider: String) {
        countDelivery(provider: provider, outcome: "client_closed", reason: "client_closed_request")
    }

    private func countDelivery(provider: String, outcome: String, reason: String) {
        Counter(
            label: "billing_events_webhook_deliveries_total",
            dimensions: [("provider", Self.providerLabel(provider)), ("outcome", outcome), ("reason", reason)], factory: factory
        ).increment()
    }

    private static func providerLabel(_ name: String) -> String {
        Provider(rawValue: name)?.rawValue ?? "unknown"
    }

    /// Records one answered HTTP request; `route` is the matched route template, never the raw path.
    public func request(route: String, method: String, status: Int, nanoseconds: Int64) {
        Timer(
            label: "billing_events_http_request_duration_seconds",
            dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory
        ).recordNanoseconds(nanoseconds)
    }

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
