import Hummingbird
import Prometheus

/// `GET /metrics`: the Prometheus text exposition of the registry behind ``ServiceMetrics``,
/// after `refresh` has read the gauges that describe the database (lag, quarantine, oldest open
/// transaction, pools). Like the health routes it needs no token: expose it to the scraper only
/// (see `docs/deployment.md`).
public struct MetricsController<Context: RequestContext>: Sendable {
    /// Reads the gauges that are sampled rather than counted.
    public typealias Refresh = @Sendable () async -> Void

    private let registry: PrometheusCollectorRegistry
    private let refresh: Refresh

    /// Creates the controller over `registry`.
    public init(registry: PrometheusCollectorRegistry, refresh: @escaping Refresh) {
        self.registry = registry
        self.refresh = refresh
    }

    /// Adds the route to `router`.
    public func register(on router: Router<Context>) {
        router.get("metrics") { _, _ in
            await refresh()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }
}
