import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

/// `/metrics` of real `serve` processes after a scripted mix of deliveries and API requests.
@Suite struct MetricsTests {
    @Test func countersHistogramsAndGaugesFollowAScriptedMix() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let receiver = try ServeProcess(
                configuration: configuration, arguments: ["--role", "receiver,api", "--max-body-bytes", "4096"], environment: ServeSupport.environment
            )
            try await receiver.waitUntilUp()
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: TestDatabase.logger)
            defer { Task { await pool.close() } }
            let token = try await APIKeyStore(pool: pool).create(name: "metrics").token

            // The mix: 3 stored, 1 duplicate, 2 forged, 1 quarantined, 1 unknown provider, 1 GET,
            // 1 too large, 1 Flexprice delivery without its headers; 2 API requests.
            for id in ["m-1", "m-2", "m-3", "m-1"] {
                #expect(try await ServeSupport.mintcash(receiver, eventID: id).status == 200)
            }
            for id in ["f-1", "f-2"] {
                #expect(try await ServeSupport.mintcash(receiver, eventID: id, forged: true).status == 401)
            }
            let unknownType = ProviderFixtures.mintcashPayment(eventID: "q-1", event: "payment.teleported")
            #expect(try await ServeSupport.mintcash(receiver, eventID: "q-1", body: unknownType).text.contains(#""status":"quarantined""#))
            #expect(
                try await RawHTTP.send(port: receiver.port, method: "POST", path: "/webhooks/paypal-\(UUID())", body: Array("{}".utf8)).status == 404)
            #expect(try await RawHTTP.send(port: receiver.port, path: "/webhooks/mintcash").status == 405)
            let large = #"{"eventId":"big","pad":""# + String(repeating: "x", count: 5000) + #""}"#
            #expect(try await ServeSupport.mintcash(receiver, eventID: "big", body: large).status == 413)
            #expect(try await RawHTTP.send(port: receiver.port, method: "POST", path: "/webhooks/flexprice", body: Array("{}".utf8)).status == 401)
            #expect(try await RawHTTP.send(port: receiver.port, path: "/v1/customers", headers: [("Authorization", "Bearer \(token)")]).status == 200)
            #expect(try await RawHTTP.send(port: receiver.port, path: "/v1/customers").status == 401)

            // The shared gauges are sampled at each scrape by a probe bounded at 2 s: on a loaded
            // machine a scrape may keep the previous sample, so wait for one that has the log.
            #expect(try await ServeSupport.eventually(timeout: .seconds(10)) { try await receiver.metrics()["billing_events_log_position"] == 3 })
            let metrics = try await receiver.metrics()
            func delivery(_ provider: String, _ outcome: String, _ reason: String = "") -> Double? {
                metrics[#"billing_events_webhook_deliveries_total{provider="\#(provider)",outcome="\#(outcome)",reason="\#(reason)"}"#]
            }
            #expect(delivery("mintcash", "stored") == 3)
            #expect(delivery("mintcash", "duplicate") == 1)
            #expect(delivery("mintcash", "refused", "bad_signature") == 2)
            #expect(delivery("mintcash", "quarantined", "unknown_type") == 1)
            #expect(delivery("unknown", "unknown_provider", "unknown_provider") == 1)  // the path's name is not a label value
            #expect(delivery("mintcash", "method_not_allowed", "method_not_allowed") == 1)
            #expect(delivery("mintcash", "too_large", "body_too_large") == 1)
            #expect(delivery("flexprice", "refused", "missing_headers") == 1)
            #expect(metrics.keys.filter { $0.hasPrefix("billing_events_webhook_deliveries_total") }.count == 8)
            #expect(metrics[#"billing_events_events_stored_total{provider="mintcash"}"#] == 3)

            func requests(_ route: String, _ method: String, _ status: Int) -> Double? {
                metrics[#"billing_events_http_request_duration_seconds_count{route="\#(route)",method="\#(method)",status="\#(status)"}"#]
            }
            #expect(requests("/webhooks/{provider}", "POST", 200) == 5)
            #expect(requests("/webhooks/{provider}", "POST", 401) == 3)
            #expect(requests("/webhooks/{provider}", "POST", 404) == 1)
            #expect(requests("/webhooks/{provider}", "POST", 413) == 1)
            #expect(requests("/v1/customers", "GET", 200) == 1)
            #expect(requests("/v1/customers", "GET", 401) == 1)
            let le10ms = metrics[
                #"billing_events_http_request_duration_seconds_bucket{route="/webhooks/{provider}",method="POST",status="200",le="10.0"}"#]
            #expect(le10ms == 5)  // every bucket up to +Inf is cumulative

            #expect(metrics["billing_events_database_up"] == 1)
            #expect(metrics["billing_events_quarantine_open"] == 1)
            #expect(metrics["billing_events_log_position"] == 3)
            #expect(metrics[#"billing_events_projection_lag_events{projection="payments"}"#] == 3)  // no projector in this process
            #expect(metrics[#"billing_events_projection_lag_events{projection="customers"}"#] == 3)
            #expect((metrics[#"billing_events_projection_lag_seconds{projection="payments"}"#] ?? -1) >= 0)
            #expect(metrics[#"billing_events_projection_dead_letters{projection="payments"}"#] == 0)
            #expect(metrics[#"billing_events_db_pool_max{pool="primary"}"#] == 10)
            #expect(metrics[#"billing_events_db_pool_waiting{pool="primary"}"#] == 0)
            #expect(metrics[#"billing_events_db_pool_connections{pool="primary",state="idle"}"#] != nil)
            #expect(metrics["billing_events_oldest_transaction_seconds"] != nil)  // server-wide: other tests' transactions count too
            #expect(metrics.keys.allSatisfy { !$0.hasPrefix("billing_events_projection_active") })

            // A projector process applies the backlog; its metrics show it active and caught up,
            // and the receiver's lag gauge follows.
            let projector = try ServeProcess(configuration: configuration, arguments: ["--role", "projector"])
            try await projector.waitUntilUp()
            #expect(
                try await ServeSupport.eventually {
                    try await projector.metrics()[#"billing_events_projection_lag_events{projection="payments"}"#] == 0
                })
            let projected = try await projector.metrics()
            for name in ["customers", "subscriptions", "payments", "wallets"] {
                #expect(projected[#"billing_events_projection_active{projection="\#(name)"}"#] == 1)
            }
            #expect(projected[#"billing_events_projection_events_applied_total{projection="payments"}"#] == 3)
            #expect(projected.keys.allSatisfy { !$0.hasPrefix("billing_events_webhook_deliveries_total") })
            #expect(
                try await ServeSupport.eventually(timeout: .seconds(10)) {
                    try await receiver.metrics()[#"billing_events_projection_lag_events{projection="payments"}"#] == 0
                })

            // An open writing transaction holds the projector's horizon back: the gauge shows its age.
            let analyst = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            try await analyst.query("BEGIN")
            try await analyst.query("SELECT pg_current_xact_id()")
            try await Task.sleep(for: .milliseconds(1200))
            #expect((try await receiver.metrics()["billing_events_oldest_transaction_seconds"] ?? 0) >= 1)
            try await analyst.query("ROLLBACK")
            await analyst.close()

            receiver.signal(SIGTERM)
            projector.signal(SIGTERM)
            #expect(try await receiver.waitForExit() == 0)
            #expect(try await projector.waitForExit() == 0)
        }
    }
}
