import Foundation
import Hummingbird

/// An RFC 9457 problem: the one error shape every route answers with, rendered as
/// `application/problem+json`. Domain errors become problems here, and only here.
public struct Problem: HTTPResponseError, Sendable, Equatable {
    /// HTTP status.
    public var status: HTTPResponse.Status
    /// A short, stable summary of the problem type.
    public var title: String
    /// What happened in this occurrence.
    public var detail: String?
    /// A URI naming the problem type; `about:blank` when the status says it all.
    public var type: String
    /// A stable machine-readable code (extension member `code`), e.g. `bad_signature`.
    public var code: String?
    /// The query parameter at fault (extension member `parameter`), for 400 answers.
    public var parameter: String?
    /// Extra response headers (`Allow`, `Retry-After`).
    public var headers: HTTPFields

    /// Creates a problem.
    public init(
        status: HTTPResponse.Status, title: String? = nil, detail: String? = nil, code: String? = nil, parameter: String? = nil,
        type: String = "about:blank", headers: HTTPFields = [:]
    ) {
        self.parameter = parameter
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.code = code
        self.type = type
        self.headers = headers
    }

    private struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String?
        var code: String?
        var parameter: String?
    }

    /// The `application/problem+json` body (keys sorted, so answers compare byte for byte).
    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(Body(type: type, title: title, status: status.code, detail: detail, code: code, parameter: parameter))
    }

    /// The problem as a response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try json()
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
