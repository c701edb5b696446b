import BillingCore
import BillingStore
import Foundation
import HTTPTypes
import Hummingbird

/// The query API under `/v1`: read models and events as JSON, lists with keyset pagination and
/// signed cursors, every answer carrying the log position the read models have reached.
public struct QueryController<Context: RequestContext>: Sendable {
    /// The reads.
    public var store: QueryStore
    /// API keys, checked on every request.
    public var keys: APIKeyStore
    /// Signs and verifies cursors.
    public var cursors: CursorSigning
    /// Longest wait for `min_position` before answering 503.
    public var positionTimeout: Duration

    /// Creates the controller.
    public init(store: QueryStore, keys: APIKeyStore, cursors: CursorSigning, positionTimeout: Duration = .seconds(5)) {
        self.store = store
        self.keys = keys
        self.cursors = cursors
        self.positionTimeout = positionTimeout
    }

    /// The response header with the read models' log position.
    public static var positionHeader: HTTPField.Name { HTTPField.Name("Billing-Events-Position")! }

    /// Adds the routes. Each checks its bearer token on the connection that answers it (one pool
    /// checkout per request); other methods answer 405 (``UnmatchedRequestMiddleware``).
    public func register(on router: Router<Context>) {
        let v1 = router.group("v1")
        for resource in [ListResource.customers, .subscriptions, .payments, .wallets, .events] {
            v1.get(RouterPath(resource.name)) { request, _ in try await list(resource, request) }
        }
        v1.get("customers/:id") { request, context in
            try await object(.customerDetail, request, context)
        }
        for resource in [ListResource.subscriptions, .payments, .wallets] {
            v1.get(RouterPath("\(resource.name)/:id")) { request, context in try await object(resource, request, context) }
        }
        v1.get("wallets/:id/transactions") { request, context in
            try await list(.walletTransactions, request, scope: try id(context))
        }
        v1.get("events/:id") { request, context in
            try await single(request) { key, wait in
                let id = try id(context)
                return try await authorized(try await store.event(id: id, key: key, after: wait)) { found in
                    guard let json = found.json else { throw Self.notFound("event") }
                    return Self.json(json, position: found.position)
                }
            }
        }
        v1.get("events/:id/payload") { request, context in
            try await single(request) { key, wait in
                let id = try id(context)
                return try await authorized(try await store.rawPayload(event: id, key: key, after: wait)) { body in
                    guard let body else { throw Self.notFound("event") }
                    return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
                }
            }
        }
    }

    private func list(_ resource: ListResource, _ request: Request, scope: UUID? = nil) async throws -> Response {
        try await handling(request) { query, key in
            let scopeText = scope?.uuidString.lowercased() ?? ""
            let signer = try await cursors.current()
            let listRequest = try ListRequest(query, resource: resource.name, scope: scopeText, filters: resource.filters, cursors: signer)
            let wait = listRequest.minimumPosition.map { PositionWait(position: $0, timeout: positionTimeout) }
            return try await authorized(try await store.list(resource, listRequest, scope: scope, key: key, after: wait)) { page in
                if page.rows.isEmpty, let scope, try await store.object(.wallets, id: scope, key: key, after: wait)?.value.json == nil {
                    throw Self.notFound("wallet")
                }
                let cursor = page.nextKey.map { signer.cursor(after: $0, binding: listRequest.binding(resource: resource.name, scope: scopeText)) }
                // Written straight into the response buffer: the rows are most of the bytes.
                var body = ByteBuffer()
                body.reserveCapacity(page.rows.reduce(96 + (cursor?.utf8.count ?? 0)) { $0 + $1.utf8.count + 2 })
                body.writeString("{\"data\": [")
                for (index, row) in page.rows.enumerated() {
                    if index > 0 { body.writeString(", ") }
                    body.writeString(row)
                }
                body.writeString("], \"has_more\": \(page.hasMore), \"next_cursor\": " + (cursor.map { "\"\($0)\"" } ?? "null") + "}")
                return Self.json(body, position: page.position)
            }
        }
    }

    private func object(
        _ resource: ListResource, _ request: Request, _ context: Context
    ) async throws -> Response {
        try await single(request) { key, wait in
            let id = try id(context)
            return try await authorized(try await store.object(resource, id: id, key: key, after: wait)) { found in
                guard let json = found.json else { throw Self.notFound(String(resource.name.dropLast())) }
                return Self.json(json, position: found.position)
            }
        }
    }

    /// A route answering one object: only `min_position` is accepted in the query string; `body`
    /// gets the API key and the position wait to read with.
    private func single(_ request: Request, _ body: @escaping ([UInt8], PositionWait?) async throws -> Response) async throws -> Response {
        try await handling(request) { query, key in
            var position: Int64?
            for (name, value) in query {
                guard name == "min_position", position == nil else {
                    throw QueryParameterError(.unknownParameter, parameter: name, "unknown or repeated parameter; this route accepts min_position")
                }
                position = try ListRequest.minimumPosition(value)
            }
            return try await body(key, position.map { PositionWait(position: $0, timeout: positionTimeout) })
        }
    }

    /// Takes the bearer token (401 without one) and the decoded query string, runs `body`, and
    /// maps every error it knows to its problem (the rest reach the observation middleware).
    /// Authentication comes first: `body` checks the key with its read, so when it fails before
    /// reading (a bad parameter or id) the key is checked on its own, and an unknown key is 401,
    /// not a 400 or 404 that would answer questions for a caller without a key. An empty `cursor=`
    /// (what clients send for "first page") is no cursor.
    private func handling(_ request: Request, _ body: ([(name: String, value: String)], [UInt8]) async throws -> Response) async throws -> Response {
        do {
            let parts = request.headers[.authorization]?.split(separator: " ", maxSplits: 1) ?? []
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                let detail =
                    parts.isEmpty
                    ? "send Authorization: Bearer <token> (create one with billing-events api-keys create)"
                    : "the Authorization header must be Bearer <token>"
                throw Self.unauthorized(detail, code: parts.isEmpty ? "missing_token" : "invalid_token")
            }
            var token = parts[1]
            while token.last == " " || token.last == "\t" { token.removeLast() }
            while token.first == " " || token.first == "\t" { token.removeFirst() }
            let key = APIKeyStore.hash(token: String(token))
            do {
                let query = try QueryString.parse(request.uri.query).filter { !($0.name == "cursor" && $0.value.isEmpty) }
                return try await body(query, key)
            } catch let error where error is QueryParameterError || (error as? Problem)?.status == .notFound {
                guard try await keys.accepts(tokenHash: key) else {
                    throw Self.unauthorized("the token is unknown or revoked", code: "invalid_token")
                }
                throw error
            }
        } catch {
            throw Problem(mapping: error) ?? error
        }
    }

    /// The answer for a read made with a key: 401 when the key was refused; records the key's use
    /// in the background when its last recorded use is over a minute old.
    private func authorized<T>(_ read: Authorized<T>?, _ answer: (T) async throws -> Response) async throws -> Response {
        guard let read else { throw Self.unauthorized("the token is unknown or revoked", code: "invalid_token") }
        if read.lastUseIsStale {
            Task { [keys] in try? await keys.touch(read.keyID) }
        }
        return try await answer(read.value)
    }

    private static func unauthorized(_ detail: String, code: String) -> Problem {
        Problem(
            status: .unauthorized, title: "Unauthorized", detail: detail, code: code, headers: [.wwwAuthenticate: "Bearer realm=\"billing-events\""])
    }

    private func id(_ context: Context) throws -> UUID {
        guard let text = context.parameters.get("id"), text.utf8.count == 36, let id = UUID(uuidString: text) else {
            throw Self.notFound("object")
        }
        return id
    }

    private static func notFound(_ kind: String) -> Problem {
        Problem(status: .notFound, detail: "no \(kind) with this id", code: "not_found")
    }

    private static func json(_ text: String, position: Int64) -> Response {
        json(ByteBuffer(string: text), position: position)
    }

    private static func json(_ body: ByteBuffer, position: Int64) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json", positionHeader: String(position)],
            body: ResponseBody(byteBuffer: body))
    }
}
