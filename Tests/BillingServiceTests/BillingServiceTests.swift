import BillingCore
import BillingService
import BillingStore
import Foundation
import Postgres
import ServiceLifecycle
import TestSupport
import Testing

/// `/readyz` did not answer 200 within 30 s.
private struct ServiceNotReady: Error {}

/// `serve`'s wiring, in-process: the same function the executable runs, on a fresh database.
@Suite struct BillingServiceTests {
    private let secret = "mintcash-merchant-secret"

    /// Runs `serve`'s services with `roles` on a fresh database and a free port, calls `body`
    /// once `/readyz` answers, then cancels the group as a signal would end it.
    private func withService(
        roles: Set<ServeRole>, _ body: @Sendable (_ port: Int, _ pool: PostgresPool) async throws -> Void
    ) async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let port = RawHTTP.freePort()
            let settings = ServeSettings(
                port: port, roles: roles, database: configuration, poolOptions: .init(maxConnections: 4),
                secrets: try WebhookSecrets(environment: ["MINTCASH_WEBHOOK_SECRETS": secret]),
                projectorOptions: ProjectionOptions(batchSize: 100, pollInterval: .milliseconds(50)),
                // Long: any open transaction on the shared test server (a 100k-row COPY, a seed, a
                // CREATE DATABASE) holds back the horizon the projector reads below, for seconds.
                positionTimeout: .seconds(60), shutdownGrace: .seconds(5))
            let group = try await BillingService.services(settings, metrics: BillingService.metrics(), logger: TestDatabase.logger)
            let running = Task { try await group.run() }
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: TestDatabase.logger)
            do {
                let deadline = ContinuousClock.now + .seconds(30)
                while (try? await RawHTTP.send(port: port, path: "/readyz", timeout: 2))?.status != 200 {
                    guard ContinuousClock.now < deadline else { throw ServiceNotReady() }
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await body(port, pool)
            } catch {
                running.cancel()
                _ = try? await running.value
                await pool.close()
                throw error
            }
            running.cancel()
            try await running.value
            await pool.close()
        }
    }

    @Test func allRolesStoreProjectAndServeWhatWasDelivered() async throws {
        try await withService(roles: Set(ServeRole.allCases)) { port, pool in
            let body = Array(ProviderFixtures.mintcashPayment().utf8)
            let headers = WebhookSigner.headers(provider: "mintcash", secret: secret, body: body).map { ($0.key, $0.value) }
            let ack = try await RawHTTP.send(
                port: port, method: "POST", path: "/webhooks/mintcash", headers: headers + [("Content-Type", "application/json")], body: body)
            #expect(ack.status == 200, "\(ack.text)")
            let position = try #require(
                (try JSONSerialization.jsonObject(with: Data(ack.body)) as? [String: Any])?["position"] as? Int, "\(ack.text)")

            let token = try await APIKeyStore(pool: pool).create(name: "wiring").token
            let payments = try await RawHTTP.send(
                port: port, path: "/v1/payments?min_position=\(position)", headers: [("Authorization", "Bearer \(token)")], timeout: 70)
            #expect(payments.status == 200, "\(payments.text)")
            let rows = (try JSONSerialization.jsonObject(with: Data(payments.body)) as? [String: Any])?["data"] as? [[String: Any]]
            #expect(rows?.map { $0["provider_id"] as? String } == ["pmt_01HXX"], "the projector ran and the API read it: \(payments.text)")

            let metrics = try await RawHTTP.send(port: port, path: "/metrics")
            #expect(metrics.text.contains(#"billing_events_webhook_deliveries_total{provider="mintcash",outcome="stored",reason=""} 1"#))
        }
    }

    @Test func aReceiverAloneServesNoQueryAPIAndRunsNoProjector() async throws {
        try await withService(roles: [.receiver]) { port, pool in
            #expect(try await RawHTTP.send(port: port, path: "/v1/payments").status == 404)
            let body = Array(ProviderFixtures.mintcashPayment().utf8)
            let headers = WebhookSigner.headers(provider: "mintcash", secret: secret, body: body).map { ($0.key, $0.value) }
            #expect(try await RawHTTP.send(port: port, method: "POST", path: "/webhooks/mintcash", headers: headers, body: body).status == 200)
            try await Task.sleep(for: .milliseconds(300))
            let projected = try await pool.query("SELECT count(*)::int8 FROM billing.payments").decodeColumn(Int.self)
            #expect(projected == [0], "no projector runs in a receiver")
        }
    }
}
