import BillingStore
import Hummingbird
import Prometheus

/// `GET /metrics`: the Prometheus text exposition of the registry behind ``HTTPMetrics`` and
/// `StoreMetrics`,
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
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: Self.withHelp(registry.emitToBuffer()))))
        }
    }

    /// Every family's help text: the HTTP layer's and the store's.
    static var help: [String: String] { metricsHelp }

    /// The exposition with a `# HELP` line (``help``) above each family's `# TYPE`
    /// line: the metrics are recorded through swift-metrics, whose factory registers every family
    /// without help text.
    static func withHelp(_ exposition: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(exposition.count + help.count * 100)
        for line in exposition.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.starts(with: "# TYPE ".utf8) {
                let name = String(decoding: line.dropFirst(7).prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)
                if let help = help[name] {
                    output += "# HELP \(name) \(help)\n".utf8
                }
            }
            output += line
            output.append(UInt8(ascii: "\n"))
        }
        // The split gives an empty last piece after the final newline; do not double it.
        if exposition.last == UInt8(ascii: "\n") || exposition.isEmpty { output.removeLast() }
        return output
    }
}

/// Every metric family's help text: the HTTP layer's and the store's.
private let metricsHelp = HTTPMetrics.help.merging(StoreMetrics.help) { first, _ in first }
