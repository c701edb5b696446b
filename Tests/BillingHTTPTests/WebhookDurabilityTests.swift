import BillingCore
import Foundation
import HTTPTypes
import Postgres
import PostgresServer
import TestSupport
import Testing

@Suite struct WebhookDurabilityTests {
    @Test func databaseDownAnswers503AndTheRetryIsStoredOnceItIsBack() async throws {
        let cluster = TestDatabase.privateCluster()
        let configuration = try await cluster.start(logger: TestDatabase.logger)
        try await ReceiverHarness.run(configuration: configuration) { harness, client in
            let (body, headers) = WebhookReceiverTests.delivery("mintcash")
            try await cluster.stop(mode: .fast)
            let refused = try await ReceiverHarness.post(client, "/webhooks/mintcash", body: body, headers: headers)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "5")
            #expect(try WebhookReceiverTests.json(refused.body)["code"] as? String == "database_unavailable")

            _ = try await cluster.start(logger: TestDatabase.logger)
            // The provider retries; the receiver recovers by itself within seconds.
            let clock = ContinuousClock()
            let start = clock.now
            var status = HTTPResponse.Status.serviceUnavailable
            while status != .ok, clock.now - start < .seconds(10) {
                status = try await ReceiverHarness.post(client, "/webhooks/mintcash", body: body, headers: headers).status
                if status != .ok { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(status == .ok)
            #expect(clock.now - start < .seconds(8))
            #expect(try await harness.eventCount() == 1)
            // The 503 was logged once the database came back.
            #expect(try await harness.deliveries().map(\.1).first == "unavailable")
        }
        try await cluster.stop(mode: .immediate)
    }

    @Test(arguments: [
        ("0.1", "USD", "0.10"), ("49.99", "USD", "49.99"), ("1e-2", "USD", "0.01"),
        // The widest amounts within the bounds (18 digits before the point, 12 after) stay exact.
        ("123456789012345678", "USD", "123456789012345678.00"),
        ("123456789012345678.123456789012", "USD", "123456789012345678.123456789012"),
        ("500", "JPY", "500"), ("1.5", "KWD", "1.500"),
    ])
    func mintcashAmountsReadBackExactly(token: String, currency: String, stored: String) async throws {
        try await ReceiverHarness.run { harness, client in
            let body = ProviderFixtures.mintcashPayment(eventID: UUID().uuidString, amount: token, currency: currency)
            let response = try await ReceiverHarness.post(client, "/webhooks/mintcash", body: body, headers: ReceiverHarness.signed("mintcash", body))
            #expect(response.status == .ok)
            let row = try #require(
                try await harness.pool.query("SELECT amount::text, currency, amount = \(token)::numeric FROM billing.events").first)
            let (text, storedCurrency, equal) = try row.decode((String, String, Bool).self)
            #expect(text == stored)
            #expect(storedCurrency == currency)
            #expect(equal)
        }
    }

    @Test func mintfaxCentsAndFlexpriceDecimalStringsReadBackExactly() async throws {
        try await ReceiverHarness.run { harness, client in
            let balance = ProviderFixtures.mintfaxBalance(id: "evt_balance0000000000001", available: "4550")
            _ = try await ReceiverHarness.post(
                client, "/webhooks/mintfax", body: balance, headers: ReceiverHarness.signed("mintfax", balance, id: "evt_balance0000000000001"))
            let payment = ProviderFixtures.flexpricePayment(amount: "0.000000001")
            _ = try await ReceiverHarness.post(client, "/webhooks/flexprice", body: payment, headers: ReceiverHarness.signed("flexprice", payment))
            let rows = try await harness.pool.query("SELECT provider, amount::text, currency FROM billing.events ORDER BY provider")
                .map { try $0.decode((String, String, String).self) }
            #expect(rows.map(\.0) == ["flexprice", "mintfax"])
            #expect(rows.map(\.1) == ["0.000000001", "45.50"])
            #expect(rows.map(\.2) == ["USD", "USD"])
        }
    }

    @Test func theLogIsAppendOnlyAndOrderedByTransaction() async throws {
        try await ReceiverHarness.run { harness, client in
            for provider in WebhookReceiverTests.providers {
                let (body, headers) = WebhookReceiverTests.delivery(provider)
                #expect(try await ReceiverHarness.post(client, "/webhooks/\(provider)", body: body, headers: headers).status == .ok)
            }
            await #expect(throws: PostgresError.self) { try await harness.pool.query("UPDATE billing.events SET amount = 0") }
            await #expect(throws: PostgresError.self) { try await harness.pool.query("DELETE FROM billing.events") }
            // Sequential deliveries commit in order, so their transaction ids rise with the position.
            let ids = try await harness.pool.query("SELECT transaction_id::text FROM billing.events ORDER BY position")
                .decodeColumn(String.self).compactMap { UInt64($0) }
            #expect(ids.count == 3 && ids == ids.sorted() && Set(ids).count == 3)
            // Committed rows fall below the snapshot's xmin once no older transaction is open
            // (other tests share this server, so wait for theirs).
            let clock = ContinuousClock()
            let start = clock.now
            var visible = 0
            while visible < 3, clock.now - start < .seconds(60) {
                visible = try await harness.pool.query(
                    "SELECT count(*) FROM billing.events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
                ).first!.decode(Int.self, at: 0)
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(visible == 3)
        }
    }
}
