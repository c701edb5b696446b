import BillingHTTP
import BillingStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@Suite struct HealthRoutesTests {
    private func app(_ report: DatabaseHealth.Report) -> some ApplicationProtocol {
        buildApplication(
            configuration: HTTPConfiguration(host: "127.0.0.1", port: 0), readiness: { report },
            logger: Logger(label: "test"))
    }

    @Test func livezAnswersWithoutTheDatabase() async throws {
        try await app(.init(reachable: false, migrated: false, reason: "down")).test(.router) { client in
            try await client.execute(uri: "/livez", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
        }
    }

    @Test func readyzIsOKWhenTheDatabaseIsReady() async throws {
        try await app(.init(reachable: true, migrated: true)).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
            }
        }
    }

    @Test(arguments: [
        DatabaseHealth.Report(reachable: false, migrated: false, reason: "database unreachable: connection refused"),
        DatabaseHealth.Report(reachable: true, migrated: false, reason: "migrations pending: 2"),
    ])
    func readyzIsAProblemWhenNotReady(report: DatabaseHealth.Report) async throws {
        try await app(report).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(body?["status"] as? Int == 503)
                #expect(body?["title"] as? String == "Not ready")
                #expect(body?["detail"] as? String == report.reason)
            }
        }
    }

    @Test func unknownRoutesAre404() async throws {
        try await app(.init(reachable: true, migrated: true)).test(.router) { client in
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
