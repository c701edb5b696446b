import BillingStore
import HTTPTypes
import Hummingbird
import Logging

/// The outermost middleware: gives every request an id (the caller's `X-Request-Id` when it is a
/// plain token, else a new one), puts it on every log line of the request and on the response,
/// logs one line per request (method, path without the query, status, duration: at debug below
/// 400, info for 4xx, warning for 5xx) and records the latency histogram by route template and
/// status.
/// Errors become responses here, so an error answer carries the id and is measured too; an
/// unexpected error is logged (error descriptions of the database layer carry no values) and
/// answered as a 500 problem without internals; a client that went away mid-request is a 499
/// (logged at info, never a 5xx); a cancelled request (shutdown past its grace period) stays
/// unanswered.
public struct RequestObservationMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The response and request header carrying the id.
    public static var header: HTTPField.Name { HTTPField.Name("X-Request-Id")! }

    let metrics: HTTPMetrics

    /// Creates the middleware.
    public init(metrics: HTTPMetrics) {
        self.metrics = metrics
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let id = Self.requestID(request.headers[Self.header])
        var context = context
        context.logger[metadataKey: "hb.request.id"] = nil
        context.logger[metadataKey: "request_id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch _ where Task.isCancelled {
            // Shutdown outlived its grace period (the error may be the cancelled statement's): the
            // request ends unanswered, as it must.
            context.logger.notice("request cancelled", metadata: ["path": .string(request.uri.path)])
            throw CancellationError()
        } catch {
            if let problem = Problem(mapping: error) {
                response = try problem.response(from: request, context: context)
            } else if let error = error as? any HTTPResponseError {
                response = try error.response(from: request, context: context)
            } else {
                context.logger.error("request failed", metadata: ["error": "\(error)"])
                response = try Problem.internalError.response(from: request, context: context)
            }
        }
        response.headers[Self.header] = id
        let elapsed = start.duration(to: .now).components
        let nanoseconds = elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000
        // A matched route's template starts with "/"; Hummingbird names its not-found path
        // "NotFound", which must not look like a route.
        let route = context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "unmatched"
        metrics.request(route: route, method: request.method.rawValue, status: response.status.code, nanoseconds: nanoseconds)
        // Answers below 400 are counted by the metrics and logged at debug: at the receiver's rate
        // an info line per acknowledged webhook costs about a third more CPU per request
        // (receiver benchmark, JSON lines, synchronous_commit=off). Refusals and errors stay visible.
        let level: Logger.Level = response.status.code >= 500 ? .warning : response.status.code >= 400 ? .info : .debug
        context.logger.log(
            level: level, "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path), "status": .stringConvertible(response.status.code),
                "ms": .stringConvertible(Double(nanoseconds / 1000) / 1000),
            ])
        return response
    }

    /// The caller's id when it is 1–128 characters of letters, digits and `-_.:`; otherwise (or
    /// when absent) a new random one. Anything else could forge or break log lines.
    static func requestID(_ given: String?) -> String {
        if let given, (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || "-_.:".utf8.contains($0) })
        {
            return given
        }
        return RequestIdentifier.next()
    }
}
