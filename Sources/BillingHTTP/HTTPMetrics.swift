import BillingCore
import BillingStore
import CoreMetrics

/// The HTTP layer's metrics, recorded through swift-metrics into the factory given (the
/// Prometheus registry behind `/metrics` in `serve`; a no-op by default): request latency and
/// webhook deliveries. Their names and help live here, the store's in ``StoreMetrics``;
/// `docs/deployment.md` ("Metrics") lists both. Label values are bounded: provider names outside
/// the known three count as `unknown`, reasons are the service's own codes.
public struct HTTPMetrics: Sendable {
    /// Where metrics go.
    public let factory: any MetricsFactory

    /// Creates the metrics over `factory`.
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
    }

    /// The `# HELP` text of each family recorded here, by name.
    public static let help: [String: String] = [
        "billing_events_webhook_deliveries_total": "Webhook requests by provider, how they ended (outcome) and why (reason code).",
        "billing_events_events_stored_total": "Events this process appended to the log, by provider.",
        "billing_events_http_request_duration_seconds":
            "Latency of answered HTTP requests by route template (unmatched: no route), method and status.",
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
}
