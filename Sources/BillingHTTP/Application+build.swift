import BillingStore
import Hummingbird
import Logging

/// The request context of every route.
public typealias AppRequestContext = BasicRequestContext

/// Where the HTTP server listens.
public struct HTTPConfiguration: Sendable {
    /// Address to bind.
    public var host: String
    /// Port to bind; 0 picks a free one.
    public var port: Int

    /// Creates a configuration; the default is `127.0.0.1:8080`.
    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// Builds the router with every route of the service: health always, `/metrics` when given,
/// webhook routes when a receiver is given, `/v1` when a query API is. Every request passes
/// ``RequestObservationMiddleware`` first.
public func buildRouter(
    readiness: @escaping HealthController<AppRequestContext>.Readiness,
    webhooks: WebhookController<AppRequestContext>? = nil,
    queries: QueryController<AppRequestContext>? = nil,
    metrics: ServiceMetrics = ServiceMetrics(),
    exposition: MetricsController<AppRequestContext>? = nil
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestObservationMiddleware(metrics: metrics))
    HealthController<AppRequestContext>(readiness: readiness).register(on: router)
    exposition?.register(on: router)
    webhooks?.register(on: router)
    queries?.register(on: router)
    return router
}

/// Builds the HTTP application. The caller runs it in a `ServiceGroup` beside the database pool.
public func buildApplication(
    configuration: HTTPConfiguration,
    readiness: @escaping HealthController<AppRequestContext>.Readiness,
    webhooks: WebhookController<AppRequestContext>? = nil,
    queries: QueryController<AppRequestContext>? = nil,
    metrics: ServiceMetrics = ServiceMetrics(),
    exposition: MetricsController<AppRequestContext>? = nil,
    logger: Logger
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(readiness: readiness, webhooks: webhooks, queries: queries, metrics: metrics, exposition: exposition),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "billing-events"),
        logger: logger)
}
