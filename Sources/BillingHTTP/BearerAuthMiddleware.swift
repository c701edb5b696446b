import BillingStore
import Foundation
import Hummingbird
import Logging

/// Requires `Authorization: Bearer <token>` with a valid, unrevoked API key. The key is looked up
/// on every request, so a revoked key is refused at once.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeyStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw Self.refusal("send Authorization: Bearer <token> (create one with billing-events api-keys create)", code: "missing_token")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.refusal("the Authorization header must be Bearer <token>", code: "invalid_token")
        }
        let key: APIKey?
        do {
            key = try await keys.authenticate(token: String(parts[1]).trimmingCharacters(in: .whitespaces))
        } catch {
            throw Problem(error)
        }
        guard let key else { throw Self.refusal("the token is unknown or revoked", code: "invalid_token") }
        var context = context
        context.logger[metadataKey: "api_key"] = "\(key.prefix)"
        return try await next(request, context)
    }

    private static func refusal(_ detail: String, code: String) -> Problem {
        Problem(status: .unauthorized, title: "Unauthorized", detail: detail, code: code, headers: [.wwwAuthenticate: "Bearer realm=\"billing-events\""])
    }
}
