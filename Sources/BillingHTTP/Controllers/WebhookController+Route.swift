import BillingCore
import BillingStore
import Foundation
import HTTPTypes
import Hummingbird

/// A webhook request refused before its body is read: how the delivery log records it, and the answer.
struct WebhookEarlyRefusal: Error {
    /// The delivery-log outcome.
    var outcome: DeliveryOutcome
    /// The answer.
    var problem: Problem
}

extension WebhookController {
    /// The checks of a webhook request that need no body: a known provider and environment, a
    /// content type that can carry JSON, no content or transfer coding, a declared size within
    /// the limit.
    static func route(
        _ headers: HTTPFields, provider name: String, environment environmentName: String?, declaredBytes: Int, maximumBodyBytes: Int
    ) throws(WebhookEarlyRefusal) -> (Provider, ProviderEnvironment?) {
        guard let provider = Provider(rawValue: name) else {
            throw WebhookEarlyRefusal(
                outcome: .unknownProvider,
                problem: Problem(status: .notFound, detail: "no webhook route for provider \"\(name)\"", code: "unknown_provider"))
        }
        var environment: ProviderEnvironment?
        if let environmentName {
            guard let named = ProviderEnvironment(rawValue: environmentName) else {
                throw WebhookEarlyRefusal(
                    outcome: .unknownProvider,
                    problem: Problem(status: .notFound, detail: "environment must be live or test", code: "unknown_environment"))
            }
            environment = named
        }
        if let contentType = headers[.contentType], !acceptsContentType(contentType) {
            throw WebhookEarlyRefusal(
                outcome: .unsupportedMediaType,
                problem: Problem(
                    status: .unsupportedMediaType, detail: "content type \(contentType) cannot carry a webhook; send application/json",
                    code: "unsupported_media_type"))
        }
        if let encoding = unsupportedContentEncoding(headers) {
            // The signature covers the bytes as the provider sent them before any coding; none of
            // the providers documents compressed deliveries, so a coded body is refused as such
            // rather than failing verification with a 401 the provider would retry for days.
            var problem = Problem(
                status: .unsupportedMediaType, title: "Unsupported content coding",
                detail: "Content-Encoding \(encoding) is not accepted; send the body uncompressed (identity)",
                code: "unsupported_content_encoding")
            problem.headers[.acceptEncoding] = "identity"
            throw WebhookEarlyRefusal(outcome: .unsupportedMediaType, problem: problem)
        }
        if let coding = unsupportedCoding(headers[values: .transferEncoding], besides: "chunked") {
            // The same for a transfer coding (`Transfer-Encoding: gzip, chunked`): NIO undoes only
            // the chunking. RFC 9112 §6.1: a coding the server does not understand is 501.
            throw WebhookEarlyRefusal(
                outcome: .unsupportedCoding,
                problem: Problem(
                    status: .notImplemented, title: "Unsupported transfer coding",
                    detail: "Transfer-Encoding \(coding) is not supported; send the body uncompressed", code: "unsupported_transfer_coding"))
        }
        if declaredBytes > maximumBodyBytes {
            throw WebhookEarlyRefusal(outcome: .tooLarge, problem: tooLarge(maximumBodyBytes))
        }
        return (provider, environment)
    }

    /// 413 for a body over `limit` bytes.
    static func tooLarge(_ limit: Int) -> Problem {
        Problem(status: .contentTooLarge, detail: "webhook bodies are limited to \(limit) bytes", code: "body_too_large")
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
}
