import BillingStore
import Hummingbird
import Logging
import NIOCore

/// The request context of every route.
public typealias AppRequestContext = BasicRequestContext

/// Where the HTTP server listens.
public struct HTTPConfiguration: Sendable {
    /// Address to bind.
    public var host: String
    /// Port to bind; 0 picks a free one.
    public var port: Int
    /// A connection with no request in progress (or whose request head has not arrived) is closed after this.
    public var idleTimeout: Duration
    /// A request whose body has not arrived in full this long after its head is answered 408 and its connection closed.
    public var readTimeout: Duration

    /// Creates a configuration; the default is `127.0.0.1:8080`, 30 s idle, 30 s to read a request.
    public init(host: String = "127.0.0.1", port: Int = 8080, idleTimeout: Duration = .seconds(30), readTimeout: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
    }
}

/// Builds the router with every route of the service: health always, `/metrics` when given,
/// webhook routes when a receiver is given, `/v1` when a query API is. Every request passes
/// ``RequestObservationMiddleware`` first; `HEAD` is served wherever `GET` is (uptime monitors
/// use it); a request no route takes is answered by ``UnmatchedRequestMiddleware``.
public func buildRouter(
    readiness: @escaping HealthController<AppRequestContext>.Readiness,
    webhooks: WebhookController<AppRequestContext>? = nil,
    queries: QueryController<AppRequestContext>? = nil,
    metrics: HTTPMetrics = HTTPMetrics(),
    exposition: MetricsController<AppRequestContext>? = nil
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: RequestObservationMiddleware(metrics: metrics))
    HealthController<AppRequestContext>(readiness: readiness).register(on: router)
    exposition?.register(on: router)
    webhooks?.register(on: router)
    queries?.register(on: router)
    router.add(middleware: UnmatchedRequestMiddleware(routes: router.routes))
    return router
}

/// Builds the HTTP application. The caller runs it in a `ServiceGroup` beside the database pool.
public func buildApplication(
    configuration: HTTPConfiguration,
    readiness: @escaping HealthController<AppRequestContext>.Readiness,
    webhooks: WebhookController<AppRequestContext>? = nil,
    queries: QueryController<AppRequestContext>? = nil,
    metrics: HTTPMetrics = HTTPMetrics(),
    exposition: MetricsController<AppRequestContext>? = nil,
    logger: Logger
) -> some ApplicationProtocol {
    let readTimeout = TimeAmount(configuration.readTimeout)
    return Application(
        router: buildRouter(readiness: readiness, webhooks: webhooks, queries: queries, metrics: metrics, exposition: exposition),
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [RequestReadDeadlineHandler(timeout: readTimeout)], idleTimeout: TimeAmount(configuration.idleTimeout)),
            maximumBodyBytes: webhooks?.maximumBodyBytes ?? 0),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "billing-events"),
        logger: logger)
}
