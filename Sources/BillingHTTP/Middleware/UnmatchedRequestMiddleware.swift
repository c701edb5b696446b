import HTTPTypes
import Hummingbird

/// Answers the requests no route takes: `405` with `Allow` when a route serves the path under other
/// methods (`HEAD` wherever `GET` is), else a `404` problem. Added to the router after every route:
/// a router middleware applies to the routes added after it and to the router's not-found path,
/// so this one runs only where Hummingbird would answer a bare 404.
struct UnmatchedRequestMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Every route's path with the methods it is served under.
    let routes: [(path: RouterPath, methods: Set<HTTPRequest.Method>)]

    init(routes: [Router<Context>.RouteDescription]) {
        var byPath: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in routes {
            byPath[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        self.routes = Array(byPath.values)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let segments = request.uri.path.split(separator: "/")
        var allowed = Set<HTTPRequest.Method>()
        for route in routes where Self.matches(route.path, segments) {
            allowed.formUnion(route.methods)
        }
        guard !allowed.isEmpty else {
            throw Problem(status: .notFound, detail: "no route answers this path", code: "not_found")
        }
        if allowed.contains(.get) { allowed.insert(.head) }
        let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        throw Problem(
            status: .methodNotAllowed, detail: "this path accepts \(allow)", code: "method_not_allowed", headers: [.allow: allow])
    }

    private static func matches(_ path: RouterPath, _ segments: [Substring]) -> Bool {
        path.components.count == segments.count && zip(path.components, segments).allSatisfy { $0 ~= $1 }
    }
}
