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
            middleware: MethodNotAllowedMiddleware(pathPrefix: "/webhooks/", allowed: .post) { request, problem in
                let provider = request.uri.path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
                metrics.delivery(provider: provider, outcome: .methodNotAllowed, reason: "method_not_allowed")
                await ingestor.log(
                    DeliveryRecord(
                        receivedAt: Date(), provider: provider, environment: nil, outcome: .methodNotAllowed,
                        httpStatus: Int(problem.status.code), reason: "\(request.method.rawValue) is not POST", bodyBytes: 0))
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
            httpStatus: 401, bodyBytes: request.headers[.contentLength].flatMap { Int($0) } ?? 0,
            deliveryID: request.headers[HTTPField.Name("svix-id")!] ?? request.headers[HTTPField.Name("webhook-id")!])

        func refuse(_ outcome: DeliveryOutcome, _ problem: Problem) async -> Problem {
            record.outcome = outcome
            record.httpStatus = Int(problem.status.code)
            record.reason = problem.code.map { "\($0): \(problem.detail ?? "")" } ?? problem.detail
            metrics.delivery(provider: providerName, outcome: outcome, reason: problem.code)
            await ingestor.log(record)
            context.logger.info(
                "webhook refused",
                metadata: ["provider": "\(providerName)", "status": "\(problem.status.code)", "reason": "\(record.reason ?? "")"])
            return problem
        }

        guard let provider = Provider(rawValue: providerName) else {
            throw await refuse(
                .unknownProvider, Problem(status: .notFound, detail: "no webhook route for provider \"\(providerName)\"", code: "unknown_provider"))
        }
        var environment: ProviderEnvironment?
        if let environmentName {
            guard let named = ProviderEnvironment(rawValue: environmentName) else {
                throw await refuse(
                    .unknownProvider, Problem(status: .notFound, detail: "environment must be live or test", code: "unknown_environment"))
            }
            environment = named
        }
        if let contentType = request.headers[.contentType], !Self.acceptsContentType(contentType) {
            throw await refuse(
                .unsupportedMediaType,
                Problem(
                    status: .unsupportedMediaType, detail: "content type \(contentType) cannot carry a webhook; send application/json",
                    code: "unsupported_media_type"))
        }
        if let encoding = Self.unsupportedContentEncoding(request.headers) {
            // The signature covers the bytes as the provider sent them before any coding; none of
            // the providers documents compressed deliveries, so a coded body is refused as such
            // rather than failing verification with a 401 the provider would retry for days.
            var problem = Problem(
                status: .unsupportedMediaType, title: "Unsupported content coding",
                detail: "Content-Encoding \(encoding) is not accepted; send the body uncompressed (identity)", code: "unsupported_content_encoding")
            problem.headers[.acceptEncoding] = "identity"
            throw await refuse(.unsupportedMediaType, problem)
        }
        if let coding = Self.unsupportedCoding(request.headers[values: .transferEncoding], besides: "chunked") {
            // The same for a transfer coding (`Transfer-Encoding: gzip, chunked`): NIO undoes only
            // the chunking. RFC 9112 §6.1: a coding the server does not understand is 501.
            throw await refuse(
                .unsupportedMediaType,
                Problem(
                    status: .notImplemented, title: "Unsupported transfer coding",
                    detail: "Transfer-Encoding \(coding) is not supported; send the body uncompressed", code: "unsupported_transfer_coding"))
        }
        if record.bodyBytes > maximumBodyBytes {
            throw await refuse(.tooLarge, tooLarge())
        }
        let body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: maximumBodyBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            record.bodyBytes = max(record.bodyBytes, maximumBodyBytes + 1)
            throw await refuse(.tooLarge, tooLarge())
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
            throw await refuse(.refused, Problem(mapping: error) ?? .internalError)
        }
        switch result {
        case let .event(event, _):
            record.environment = event.environment.rawValue
        case let .quarantine(reason, _):
            context.logger.warning("webhook quarantined", metadata: ["provider": "\(provider.rawValue)", "reason": "\(reason)"])
            record.reason = reason.description
        }
        record.httpStatus = 200
        do {
            let outcome = try await ingestor.ingest(result, record: record)
            metrics.delivery(provider: providerName, outcome: outcome.deliveryOutcome, reason: Self.quarantineCode(result))
            return Self.acknowledgement(outcome, result: result)
        } catch let error as IngestError {
            throw await refuse(.unavailable, Problem(mapping: error) ?? .internalError)
        }
    }

    private func tooLarge() -> Problem {
        Problem(status: .contentTooLarge, detail: "webhook bodies are limited to \(maximumBodyBytes) bytes", code: "body_too_large")
    }

    /// JSON, text, or no declared type: a provider may label JSON oddly, and a verified non-JSON
    /// body is quarantined rather than refused. Forms, multipart and media cannot be webhooks.
    static func acceptsContentType(_ value: String) -> Bool {
        let type = value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return type.isEmpty || type == "application/json" || type.hasSuffix("+json") || type.hasPrefix("text/")
            || type == "application/octet-stream"
    }

    /// The first content coding other than `identity` in `Content-Encoding`, if any.
    static func unsupportedContentEncoding(_ fields: HTTPFields) -> String? {
        unsupportedCoding(fields[values: .contentEncoding])
    }

    /// The first coding in the comma-separated `values` other than `identity` and `besides`.
    static func unsupportedCoding(_ values: [String], besides accepted: String = "identity") -> String? {
        let codings = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return codings.first { !$0.isEmpty && $0 != "identity" && $0 != accepted }
    }

    /// Header names lower-cased; a repeated header keeps its first value.
    static func lowercasedHeaders(_ fields: HTTPFields) -> [String: String] {
        var headers: [String: String] = [:]
        for field in fields where headers[field.name.canonicalName] == nil {
            headers[field.name.canonicalName] = field.value
        }
        return headers
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
