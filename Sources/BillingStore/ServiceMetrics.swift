import BillingCore
import CoreMetrics

/// The service's metrics, recorded through swift-metrics into the factory given (the Prometheus
/// registry behind `/metrics` in `serve`; a no-op by default, so tests and commands need none).
/// Every name and label lives here, so `docs/operations.md` can list them from one place. Label
/// values are bounded: provider names outside the known three count as `unknown`, reasons are the
/// service's own codes.
public struct ServiceMetrics: Sendable {
    /// Where metrics go.
    public let factory: any MetricsFactory

    /// Creates the metrics over `factory`.
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// Counts one webhook request by provider, outcome and (for refusals and quarantine) reason
    /// code; a stored one also counts as an event stored.
    public func delivery(provider: String, outcome: DeliveryOutcome, reason: String? = nil) {
        let provider = Provider(rawValue: provider)?.rawValue ?? "unknown"
        Counter(
            label: "billing_events_webhook_deliveries_total",
            dimensions: [("provider", provider), ("outcome", outcome.rawValue), ("reason", reason ?? "")], factory: factory
        ).increment()
        if outcome == .stored {
            Counter(label: "billing_events_events_stored_total", dimensions: [("provider", provider)], factory: factory).increment()
        }
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
