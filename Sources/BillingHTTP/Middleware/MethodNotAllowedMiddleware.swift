import HTTPTypes
import Hummingbird

/// Answers 405 with `Allow` for any other method under a path prefix. A middleware rather than
/// extra routes, so the router's route list (checked against the OpenAPI document) stays the
/// real operations; router middlewares also run for requests no route matches.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let pathPrefix: String
    let allowed: HTTPRequest.Method
    /// Told about each refused request (the webhook routes log it in the delivery log).
    let refused: @Sendable (Request, Problem) async -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != allowed, request.uri.path.hasPrefix(pathPrefix) else {
            return try await next(request, context)
        }
        let problem = Problem(
            status: .methodNotAllowed, detail: "\(pathPrefix)… accepts \(allowed.rawValue) only", code: "method_not_allowed",
            headers: [.allow: allowed.rawValue])
        await refused(request, problem)
        throw problem
    }
}
