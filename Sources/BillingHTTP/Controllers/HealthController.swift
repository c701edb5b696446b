import BillingStore
import Foundation
import Hummingbird

/// `/livez` (the process answers) and `/readyz` (the database is reachable and migrated).
/// Neither needs a token, so orchestrators and load balancers can probe them.
public struct HealthController<Context: RequestContext>: Sendable {
    /// Produces the current readiness of the database.
    public typealias Readiness = @Sendable () async -> DatabaseHealth.Report

    private let readiness: Readiness

    /// Creates the controller around a readiness check.
    public init(readiness: @escaping Readiness) {
        self.readiness = readiness
    }

    /// Adds the routes to `router`.
    public func register(on router: Router<Context>) {
        router.get("livez") { _, _ in
            Self.json(.ok, #"{"status":"ok"}"#)
        }
        router.get("readyz") { _, _ in
            let report = await readiness()
            guard report.isReady else {
                throw Problem(status: .serviceUnavailable, title: "Not ready", detail: report.reason)
            }
            return Self.json(.ok, #"{"status":"ready"}"#)
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
