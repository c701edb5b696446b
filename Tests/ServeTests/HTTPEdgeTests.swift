import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

/// HTTP as real senders speak it, against a `serve` process over raw sockets: `Expect:
/// 100-continue`, HTTP/1.0, content codings, a byte-order mark, a sender that goes away mid-body,
/// methods, HEAD, unknown paths, authentication before parameters, and `/metrics` as promtool
/// reads it.
@Suite(.serialized) struct HTTPEdgeTests {
    /// A `serve` (receiver and API, 4 KiB body limit) on a fresh database, with an API token.
    private func withServe(_ body: (ServeProcess, String, PostgresPool) async throws -> Void) async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let serve = try ServeProcess(
                configuration: configuration, arguments: ["--role", "receiver,api", "--max-body-bytes", "4096"], environment: ServeSupport.environment
            )
            try await serve.waitUntilUp()
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: TestDatabase.logger)
            do {
                let token = try await APIKeyStore(pool: pool).create(name: "edges").token
                try await body(serve, token, pool)
            } catch {
                await pool.close()
                throw error
            }
            await pool.close()
        }
    }

    private static func signedHead(_ body: [UInt8], extra: String = "") -> String {
        "POST /webhooks/mintcash HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "X-Signature: \(WebhookSigner.hex(secret: ServeSupport.mintcashSecret, message: body))\r\nContent-Length: \(body.count)\r\n\(extra)\r\n"
    }

    @Test func expectContinueIsAnsweredAtOnceAndAnOversizedBodyIsRefusedWithoutIt() async throws {
        try await withServe { serve, _, _ in
            let body = Array(ProviderFixtures.mintcashPayment(eventID: "expect-1").utf8)
            let connection = try RawConnection(port: serve.port)
            try connection.send(Array(Self.signedHead(body, extra: "Expect: 100-continue\r\n").utf8))
            let interim = try connection.readHead(timeout: .seconds(3))
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue"), "no 100 Continue within 3 s (curl waits 1 s per delivery): \(interim)")
            try connection.send(body)
            let final = try connection.readHead(timeout: .seconds(5))
            #expect(final.hasPrefix("HTTP/1.1 200"), "\(final)")

            // Over the limit: 413 at once, no 100, and the connection closes (the body may or may not follow).
            let large = try RawConnection(port: serve.port)
            try large.send(Array(Self.signedHead(Array(repeating: 0x20, count: 10_000), extra: "Expect: 100-continue\r\n").utf8))
            let (answer, closed) = try large.readToEnd(timeout: .seconds(3))
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
            #expect(answer.lowercased().contains("connection: close"))
            #expect(closed, "the connection stayed open after a 413 to an unsent body")
        }
    }

    @Test func http10AndConnectionCloseEndTheConnectionAfterTheResponse() async throws {
        try await withServe { serve, _, _ in
            for request in [
                "GET /livez HTTP/1.0\r\n\r\n", "GET /livez HTTP/1.0\r\nHost: x\r\n\r\n",
                "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n",
                "GET /livez HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n",
            ] {
                let connection = try RawConnection(port: serve.port)
                try connection.send(Array(request.utf8))
                let (answer, closed) = try connection.readToEnd(timeout: .seconds(3))
                #expect(closed, "\(request.debugDescription): the connection stayed open; a client reading to EOF hangs")
                #expect(answer.contains(#"{"status":"ok"}"#))
                #expect(answer.lowercased().contains("connection: close"))
                #expect(!answer.lowercased().contains("transfer-encoding: chunked"))
            }
            // HTTP/1.0 asking for keep-alive keeps it: a second request on the same connection.
            let connection = try RawConnection(port: serve.port)
            try connection.send(Array("GET /livez HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
            let first = try connection.readHead(timeout: .seconds(3))
            #expect(first.hasPrefix("HTTP/1.0 200") && first.lowercased().contains("connection: keep-alive"), "\(first)")
            _ = try connection.read(timeout: .milliseconds(300))
            try connection.send(Array("GET /livez HTTP/1.0\r\n\r\n".utf8))
            let (second, closed) = try connection.readToEnd(timeout: .seconds(3))
            #expect(second.hasPrefix("HTTP/1.0 200") && closed, "\(second)")

            // Pipelined: each answer carries its own request's version; the connection ends after the last.
            let pipelined = try RawConnection(port: serve.port)
            try pipelined.send(Array("GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.0\r\n\r\n".utf8))
            let (both, bothClosed) = try pipelined.readToEnd(timeout: .seconds(3))
            #expect(
                both.hasPrefix("HTTP/1.1 200") && both.contains("HTTP/1.0 200") && both.hasSuffix(#"{"status":"ready"}"#) && bothClosed, "\(both)")
        }
    }

    @Test func aCodedBodyIs415AndABodyWithAByteOrderMarkIsStored() async throws {
        try await withServe { serve, token, pool in
            let body = Array(ProviderFixtures.mintcashPayment(eventID: "coded-1").utf8)
            let signature = WebhookSigner.hex(secret: ServeSupport.mintcashSecret, message: body)
            for coding in ["gzip", "br", "deflate, gzip"] {
                let answer = try await RawHTTP.send(
                    port: serve.port, method: "POST", path: "/webhooks/mintcash",
                    headers: [("Content-Type", "application/json"), ("X-Signature", signature), ("Content-Encoding", coding)], body: body)
                #expect(answer.status == 415, "Content-Encoding \(coding): \(answer.status) \(answer.text)")
                #expect(answer.headers["content-type"] == "application/problem+json")
                #expect(answer.text.contains(#""code":"unsupported_content_encoding""#))
                #expect(answer.headers["accept-encoding"] == "identity")
            }
            // A transfer coding other than chunked is the same: 501, not a 401.
            let gzipChunked = try RawConnection(port: serve.port)
            let chunk = Array(String(body.count, radix: 16).utf8) + [13, 10] + body + Array("\r\n0\r\n\r\n".utf8)
            try gzipChunked.send(
                Array(
                    ("POST /webhooks/mintcash HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                        + "X-Signature: \(signature)\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").utf8) + chunk)
            let (coded, _) = try gzipChunked.readToEnd(timeout: .seconds(3))
            #expect(coded.hasPrefix("HTTP/1.1 501") && coded.contains(#""code":"unsupported_transfer_coding""#), "\(coded)")
            let identity = try await RawHTTP.send(
                port: serve.port, method: "POST", path: "/webhooks/mintcash",
                headers: [("Content-Type", "application/json"), ("X-Signature", signature), ("Content-Encoding", "identity")], body: body)
            #expect(identity.status == 200 && identity.text.contains(#""status":"stored""#))
            #expect(
                try await ServeSupport.eventually(timeout: .seconds(5)) {
                    try await pool.query("SELECT count(*) FROM billing.deliveries WHERE outcome = 'unsupported_media_type'")
                        .first!.decode(Int.self, at: 0) == 3
                })
            #expect(
                try await ServeSupport.eventually(timeout: .seconds(5)) {
                    try await pool.query("SELECT count(*) FROM billing.deliveries WHERE outcome = 'unsupported_coding'")
                        .first!.decode(Int.self, at: 0) == 1
                })

            // A byte-order mark: verified over the exact bytes, parsed past, stored; the raw payload keeps it.
            let marked = [0xEF, 0xBB, 0xBF] + Array(ProviderFixtures.mintcashPayment(eventID: "bom-1").utf8)
            let stored = try await RawHTTP.send(
                port: serve.port, method: "POST", path: "/webhooks/mintcash",
                headers: [
                    ("Content-Type", "application/json"), ("X-Signature", WebhookSigner.hex(secret: ServeSupport.mintcashSecret, message: marked)),
                ],
                body: marked)
            #expect(stored.status == 200 && stored.text.contains(#""status":"stored""#), "\(stored.text)")
            let id = try #require(stored.text.split(separator: "\"").drop { $0 != "event_id" }.dropFirst(2).first)
            let event = try await RawHTTP.send(port: serve.port, path: "/v1/events/\(id)", headers: [("Authorization", "Bearer \(token)")])
            #expect(event.status == 200)
            #expect((try? JSONSerialization.jsonObject(with: Data(event.body))) != nil, "GET /v1/events/{id} is not JSON: \(event.text.prefix(80))")
            let payload = try await RawHTTP.send(port: serve.port, path: "/v1/events/\(id)/payload", headers: [("Authorization", "Bearer \(token)")])
            #expect(payload.body == marked)
        }
    }

    @Test func aSenderGoneMidBodyIs499NotA5xx() async throws {
        try await withServe { serve, _, _ in
            let body = Array(ProviderFixtures.mintcashPayment(eventID: "gone-1").utf8)
            let connection = try RawConnection(port: serve.port)
            try connection.send(Array(Self.signedHead(body).utf8) + body.prefix(100))
            try await Task.sleep(for: .milliseconds(200))
            connection.close()
            #expect(
                try await ServeSupport.eventually(timeout: .seconds(5)) {
                    try await serve.metrics()[
                        #"billing_events_http_request_duration_seconds_count{route="/webhooks/{provider}",method="POST",status="499"}"#] == 1
                })
            let metrics = try await serve.metrics()
            #expect(metrics.keys.allSatisfy { !$0.contains(#"status="500""#) }, "\(metrics.keys.filter { $0.contains("500") })")
            #expect(
                metrics[#"billing_events_webhook_deliveries_total{provider="mintcash",outcome="client_closed",reason="client_closed_request"}"#] == 1)
            #expect(!serve.log.contains("request failed"))
            #expect(!serve.log.contains("status=500"))
        }
    }

    /// The answer to `HEAD path`: the head only (the connection closes after it).
    private static func head(_ serve: ServeProcess, _ path: String, _ headers: String = "") throws -> String {
        let connection = try RawConnection(port: serve.port)
        try connection.send(Array("HEAD \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(headers)\r\n".utf8))
        return try connection.readToEnd(timeout: .seconds(3)).0
    }

    @Test func aBodyThatDoesNotArriveInTimeIs408NotA5xx() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let serve = try ServeProcess(
                configuration: configuration, arguments: ["--role", "receiver", "--read-timeout-seconds", "1"], environment: ServeSupport.environment)
            try await serve.waitUntilUp()
            let body = Array(ProviderFixtures.mintcashPayment(eventID: "slow-1").utf8)
            let connection = try RawConnection(port: serve.port)
            try connection.send(Array(Self.signedHead(body).utf8) + body.prefix(100))
            let (answer, closed) = try connection.readToEnd(timeout: .seconds(5))
            #expect(answer.hasPrefix("HTTP/1.1 408") && closed, "\(answer)")
            #expect(answer.components(separatedBy: "HTTP/1.1 ").count == 2, "one answer only: \(answer)")
            #expect(
                try await ServeSupport.eventually(timeout: .seconds(5)) {
                    try await serve.metrics()[
                        #"billing_events_http_request_duration_seconds_count{route="/webhooks/{provider}",method="POST",status="408"}"#] == 1
                })
            let metrics = try await serve.metrics()
            #expect(
                metrics.keys.allSatisfy { !$0.contains(#"status="500""#) && !$0.contains(#"status="499""#) },
                "\(metrics.keys.filter { $0.contains("status") })")
            #expect(!serve.log.contains("request failed"))
        }
    }

    @Test func methodsHeadUnknownPathsAndAuthenticationFirst() async throws {
        try await withServe { serve, token, _ in
            for path in ["/livez", "/readyz", "/metrics"] {
                let post = try await RawHTTP.send(port: serve.port, method: "POST", path: path)
                #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD", "POST \(path): \(post.status) \(post.headers)")
                #expect(post.headers["content-type"] == "application/problem+json" && post.text.contains(#""code":"method_not_allowed""#))
                let head = try Self.head(serve, path)
                #expect(head.hasPrefix("HTTP/1.1 200") && head.hasSuffix("\r\n\r\n"), "HEAD \(path): \(head)")
            }
            let delete = try await RawHTTP.send(port: serve.port, method: "DELETE", path: "/v1/payments/\(UUID())")
            #expect(delete.status == 405 && delete.headers["allow"] == "GET, HEAD")
            let headList = try Self.head(serve, "/v1/customers", "Authorization: Bearer \(token)\r\n")
            #expect(headList.hasPrefix("HTTP/1.1 200") && headList.hasSuffix("\r\n\r\n"), "\(headList)")
            for (method, path) in [("GET", "/nope"), ("POST", "/v1/customers/a/b/c"), ("GET", "/v1/")] {
                let unknown = try await RawHTTP.send(port: serve.port, method: method, path: path)
                #expect(
                    unknown.status == 404 && unknown.headers["content-type"] == "application/problem+json", "\(method) \(path): \(unknown.status)")
                #expect(unknown.text.contains(#""code":"not_found""#) && unknown.text.contains(#""status":404"#))
            }

            // A wrong token is 401 whatever else is wrong; an empty cursor is no cursor.
            let wrong = [("Authorization", "Bearer bek_not-a-key")]
            for path in [
                "/v1/customers?limit=0", "/v1/events?cursor=zzz", "/v1/payments/not-a-uuid", "/v1/customers?bogus=1", "/v1/customers/\(UUID())",
            ] {
                let answer = try await RawHTTP.send(port: serve.port, path: path, headers: wrong)
                #expect(answer.status == 401, "\(path) with a wrong token: \(answer.status)")
            }
            #expect(
                try await RawHTTP.send(port: serve.port, path: "/v1/customers?limit=0", headers: [("Authorization", "Bearer \(token)")]).status == 400
            )
            let empty = try await RawHTTP.send(port: serve.port, path: "/v1/events?cursor=&limit=5", headers: [("Authorization", "Bearer \(token)")])
            #expect(empty.status == 200, "cursor= : \(empty.status) \(empty.text)")

            // Unknown paths are one `unmatched` route label, never the raw path or "NotFound".
            let metrics = try await serve.metrics()
            #expect(metrics[#"billing_events_http_request_duration_seconds_count{route="unmatched",method="GET",status="404"}"#] == 2)
            #expect(metrics.keys.allSatisfy { !$0.contains("NotFound") && !$0.contains("/nope") })
        }
    }

    @Test func everyMetricFamilyHasHelpAndAnUnknownEnvironmentIsNotAnUnknownProvider() async throws {
        try await withServe { serve, _, _ in
            let body = Array(ProviderFixtures.mintcashPayment(eventID: "env-1").utf8)
            let signature = WebhookSigner.hex(secret: ServeSupport.mintcashSecret, message: body)
            let staging = try await RawHTTP.send(
                port: serve.port, method: "POST", path: "/webhooks/mintcash/staging", headers: [("X-Signature", signature)], body: body)
            #expect(staging.status == 404)
            #expect(try await ServeSupport.mintcash(serve, eventID: "env-2").status == 200)
            let exposition = try await RawHTTP.send(port: serve.port, path: "/metrics").text
            let lines = exposition.split(separator: "\n")
            let families = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
            #expect(families.count >= 10)
            for family in families {
                #expect(lines.contains { $0.hasPrefix("# HELP \(family) ") && $0.count > "# HELP \(family) ".count + 10 }, "no # HELP for \(family)")
            }
            let metrics = ServeProcess.parseExposition(exposition)
            #expect(
                metrics[#"billing_events_webhook_deliveries_total{provider="mintcash",outcome="unknown_environment",reason="unknown_environment"}"#]
                    == 1)
            #expect(metrics.keys.allSatisfy { !$0.contains(#"outcome="unknown_provider""#) })
        }
    }
}
