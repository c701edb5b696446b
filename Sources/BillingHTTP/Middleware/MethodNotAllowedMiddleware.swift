import HTTPTypes
import Hummingbird

/// Answers 405 with `Allow` for any other method under a path prefix. A middleware rather than
/// extra routes, so the router's route list (checked against the OpenAPI document) stays the
/// real operations; router middlewares also run for requests no route matches.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let pathPrefix: String
    let allowed: HTTPRequest.Method
    /// Told about each refused request with the path's segments after the prefix (the webhook
    /// routes log it in the delivery log under the provider segment).
    let refused: @Sendable (_ request: Request, _ segments: [String], _ problem: Problem) async -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != allowed, request.uri.path.hasPrefix(pathPrefix) else {
            return try await next(request, context)
        }
        let problem = Problem(
            status: .methodNotAllowed, detail: "\(pathPrefix)… accepts \(allowed.rawValue) only", code: "method_not_allowed",
            headers: [.allow: allowed.rawValue])
        let segments = request.uri.path.dropFirst(pathPrefix.count).split(separator: "/").map(String.init)
        await refused(request, segments, problem)
        throw problem
    }
}
