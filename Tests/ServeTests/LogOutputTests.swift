import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

/// The log lines of real `serve` processes: request ids on every line of a request, JSON or text
/// format, and no secret, token, signature or body in them, even at debug level.
@Suite struct LogOutputTests {
    @Test func jsonLinesCarryRequestIDsAndNoSecrets() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let serve = try ServeProcess(
                configuration: configuration, environment: ServeSupport.environment.merging(["LOG_FORMAT": "json", "LOG_LEVEL": "debug"]) { $1 })
            try await serve.waitUntilUp()
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: TestDatabase.logger)
            let token = try await APIKeyStore(pool: pool).create(name: "logs").token
            await pool.close()
            let marker = "body-marker-7f3a@example.com"
            let body = ProviderFixtures.mintcashPayment(eventID: "log-1").replacingOccurrences(of: "buyer@example.com", with: marker)
            let signature = WebhookSigner.hex(secret: ServeSupport.mintcashSecret, message: Array(body.utf8))
            let forgedSignature = WebhookSigner.hex(secret: "not-the-secret", message: Array(body.utf8))
            let flexprice = ProviderFixtures.flexpricePayment(id: "pay_log")
            let svix = WebhookSigner.headers(provider: "flexprice", secret: ServeSupport.flexpriceSecret, body: Array(flexprice.utf8))
            let wrongToken = "be_" + String(repeating: "q", count: 40)

            let stored = try await RawHTTP.send(
                port: serve.port, method: "POST", path: "/webhooks/mintcash",
                headers: [("X-Signature", signature), ("X-Request-Id", "req-valid-1")], body: Array(body.utf8))
            #expect(stored.status == 200 && stored.headers["x-request-id"] == "req-valid-1")
            let forged = try await RawHTTP.send(
                port: serve.port, method: "POST", path: "/webhooks/mintcash",
                headers: [("X-Signature", forgedSignature), ("X-Request-Id", "req-forged-2")], body: Array(body.utf8))
            #expect(forged.status == 401 && forged.headers["x-request-id"] == "req-forged-2")
            let svixAnswer = try await RawHTTP.send(
                port: serve.port, method: "POST", path: "/webhooks/flexprice", headers: svix.map { ($0.key, $0.value) }, body: Array(flexprice.utf8))
            #expect(svixAnswer.status == 200)
            let api = try await RawHTTP.send(
                port: serve.port, path: "/v1/customers?email=\(marker)",
                headers: [("Authorization", "Bearer \(token)"), ("X-Request-Id", "req-api-3")])
            #expect(api.status == 200)
            let refused = try await RawHTTP.send(port: serve.port, path: "/v1/payments", headers: [("Authorization", "Bearer \(wrongToken)")])
            #expect(refused.status == 401)
            let generated = try #require(refused.headers["x-request-id"])
            let replaced = try await RawHTTP.send(port: serve.port, path: "/livez", headers: [("X-Request-Id", "two words\"{}")])
            let replacement = try #require(replaced.headers["x-request-id"])
            #expect(replacement != "two words\"{}" && replacement.count == 32)

            serve.signal(SIGTERM)
            #expect(try await serve.waitForExit() == 0)
            let log = serve.log
            let lines = log.split(separator: "\n").map(String.init)
            let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == lines.count && lines.count > 10, "every line is one JSON object")
            #expect(objects.allSatisfy { $0["time"] is String && $0["level"] is String && $0["message"] is String })
            func linesOf(_ id: String) -> [[String: Any]] { objects.filter { $0["request_id"] as? String == id } }
            #expect(linesOf("req-valid-1").contains { $0["message"] as? String == "request" && $0["status"] as? Int == 200 })
            #expect(Set(linesOf("req-forged-2").compactMap { $0["message"] as? String }) == ["webhook refused", "request"])
            #expect(linesOf("req-api-3").contains { $0["path"] as? String == "/v1/customers" })
            #expect(linesOf(generated).contains { $0["status"] as? Int == 401 })
            #expect(!linesOf(replacement).isEmpty)
            #expect(!log.contains("two words"))
            #expect(objects.filter { $0["message"] as? String == "request" }.allSatisfy { $0["request_id"] is String })

            let secrets = [
                ServeSupport.mintcashSecret, ServeSupport.flexpriceSecret, String(ServeSupport.flexpriceSecret.dropFirst(6)), token, wrongToken,
                String(token.suffix(20)), signature, forgedSignature, svix["svix-signature"]!, String(svix["svix-signature"]!.dropFirst(3)),
                marker, "Jane Doe", "order_123",
            ]
            for secret in secrets {
                #expect(!log.contains(secret), "the log contains \(secret)")
            }
        }
    }

    @Test func textLinesOnRequestCarryTheRequestID() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let serve = try ServeProcess(configuration: configuration, environment: ServeSupport.environment)
            try await serve.waitUntilUp()
            let answer = try await ServeSupport.mintcash(serve, eventID: "text-1", forged: true, headers: [("X-Request-Id", "req-text-1")])
            #expect(answer.status == 401)
            serve.signal(SIGTERM)
            #expect(try await serve.waitForExit() == 0)
            let lines = serve.log.split(separator: "\n")
            #expect(
                lines.allSatisfy {
                    $0.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info|notice|warning|error|critical) +\S.*/) != nil
                })
            let request = lines.filter { $0.contains("request_id=req-text-1") }
            #expect(request.contains { $0.contains(" webhook refused ") && $0.contains("reason=\"bad_signature: ") })
            #expect(request.contains { $0.contains(" request ") && $0.contains("status=401") && $0.contains("path=/webhooks/mintcash") })
            #expect(!lines.contains { $0.contains("debug") })  // LOG_LEVEL defaults to info
        }
    }
}
