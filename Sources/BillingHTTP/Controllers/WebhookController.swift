import BillingCore
import BillingStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `POST /webhooks/{provider}[/{environment}]`: verify the raw bytes, normalize, commit, and only
/// then acknowledge. Every request, accepted or refused, leaves a row in the delivery log.
public struct WebhookController<Context: RequestContext>: Sendable {
    /// Verification and normalization.
    public var intake: WebhookIntake
    /// Where verified deliveries are committed.
    public var ingestor: EventIngestor
    /// Largest accepted body (`WEBHOOK_MAX_BODY_BYTES`, default 1 MiB).
    public var maximumBodyBytes: Int
    /// Counts deliveries by provider, outcome and reason.
    public var metrics: HTTPMetrics

    /// Creates the controller.
    public init(intake: WebhookIntake, ingestor: EventIngestor, maximumBodyBytes: Int = 1 << 20, metrics: HTTPMetrics = HTTPMetrics()) {
        self.intake = intake
        self.ingestor = ingestor
        self.maximumBodyBytes = maximumBodyBytes
        self.metrics = metrics
    }

    /// Adds the webhook routes to `router`; other methods on `/webhooks/…` answer 405.
    public func register(on router: Router<Context>) {
        let ingestor = ingestor
        let metrics = metrics
        router.add(
            middleware: MethodNotAllowedMiddleware(pathPrefix: "/webhooks/", allowed: .post) { request, segments, problem in
                let provider = segments.first ?? ""
                metrics.delivery(provider: provider, outcome: .methodNotAllowed, reason: "method_not_allowed")
                await ingestor.log(
                    DeliveryRecord(
                        receivedAt: Date(), provider: provider, environment: nil, outcome: .methodNotAllowed,
                        reason: "\(request.method.rawValue) is not POST", bodyBytes: 0))
            })
        router.post("webhooks/:provider") { request, context in try await receive(request, context: context) }
        router.post("webhooks/:provider/:environment") { request, context in try await receive(request, context: context) }
    }

    private func receive(_ request: Request, context: Context) async throws -> Response {
        let receivedAt = Date()
        let providerName = context.parameters.get("provider") ?? ""
        let environmentName = context.parameters.get("environment")
        var record = DeliveryRecord(
            receivedAt: receivedAt, provider: providerName, environment: environmentName ?? "live", outcome: .refused,
            bodyBytes: request.headers[.contentLength].flatMap { Int($0) } ?? 0,
            deliveryID: request.headers[HTTPField.Name("svix-id")!] ?? request.headers[HTTPField.Name("webhook-id")!])

        func refuse(_ outcome: DeliveryOutcome, _ problem: Problem) async -> Problem {
            assert(problem.status == outcome.httpStatus, "\(outcome) is answered \(outcome.httpStatus), not \(problem.status)")
            record.outcome = outcome
            record.reason = problem.code.map { "\($0): \(problem.detail ?? "")" } ?? problem.detail
            metrics.delivery(provider: providerName, outcome: outcome, reason: problem.code)
            await ingestor.log(record)
            context.logger.info(
                "webhook refused",
                metadata: ["provider": "\(providerName)", "status": "\(problem.status.code)", "reason": "\(record.reason ?? "")"])
            return problem
        }

        let provider: Provider
        let environment: ProviderEnvironment?
        do {
            (provider, environment) = try Self.route(
                request.headers, provider: providerName, environment: environmentName, declaredBytes: record.bodyBytes,
                maximumBodyBytes: maximumBodyBytes)
        } catch {
            throw await refuse(error.outcome, error.problem)
        }
        let body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: maximumBodyBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            record.bodyBytes = max(record.bodyBytes, maximumBodyBytes + 1)
            throw await refuse(.tooLarge, Self.tooLarge(maximumBodyBytes))
        } catch let error where Problem(mapping: error) == .clientClosedRequest {
            // Nobody is left to answer; no delivery-log outcome fits, so it is counted on its own.
            metrics.deliveryAbandoned(provider: providerName)
            throw error
        }
        record.bodyBytes = body.count

        let result: IntakeResult
        do {
            result = try intake.receive(
                provider: provider, environment: environment, headers: Self.lowercasedHeaders(request.headers), body: body, now: receivedAt)
        } catch {
            let problem = Problem(mapping: error) ?? .internalError
            throw await refuse(problem.status == .unauthorized ? .refused : .failed, problem)
        }
        switch result {
        case let .event(event, _):
            record.environment = event.environment.rawValue
        case let .quarantine(reason, _):
            context.logger.warning("webhook quarantined", metadata: ["provider": "\(provider.rawValue)", "reason": "\(reason)"])
            record.reason = reason.description
        }
        do {
            let outcome = try await ingestor.ingest(result, record: record)
            metrics.delivery(provider: providerName, outcome: outcome.deliveryOutcome, reason: Self.quarantineCode(result))
            return Self.acknowledgement(outcome, result: result)
        } catch let error as IngestError {
            throw await refuse(error.code == .unavailable ? .unavailable : .failed, Problem(mapping: error) ?? .internalError)
        }
    }

    private static func quarantineCode(_ result: IntakeResult) -> String? {
        if case let .quarantine(reason, _) = result { reason.code.rawValue } else { nil }
    }

    private static func acknowledgement(_ outcome: IngestOutcome, result: IntakeResult) -> Response {
        let text: String
        switch outcome {
        // `position` lets the sender read its own write: `min_position=<position>` on the query API.
        case let .stored(id, position):
            text = #"{"status":"stored","event_id":"\#(id.uuidString.lowercased())","position":\#(position)}"#
        case let .duplicate(id, position):
            text = #"{"status":"duplicate","event_id":"\#(id.uuidString.lowercased())","position":\#(position)}"#
        case let .quarantined(id):
            text = #"{"status":"quarantined","quarantine_id":\#(id),"reason":"\#(quarantineCode(result) ?? "")"}"#
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
