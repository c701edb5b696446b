import BillingCore
import BillingHTTP
import BillingStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

/// The query API over real HTTP against read models projected from a generated history.
@Suite struct QueryAPITests {
    @Test func everyListAndFilterAgreesWithTheTables() async throws {
        try await ReceiverHarness.run { harness, client in
            _ = try await harness.seedHistory(seed: 7, entities: 120)
            try await harness.project()
            // Unfiltered lists page through every row exactly once, newest first.
            for (route, table) in [("customers", "customers"), ("subscriptions", "subscriptions"), ("payments", "payments"), ("wallets", "wallets")] {
                let rows = try await harness.pageThrough(client, "/v1/\(route)", limit: 7)
                #expect(rows.count == (try await harness.count("SELECT count(*) FROM billing.\(table)")), "\(route)")
                #expect(Set(rows.map { $0["id"] as! String }).count == rows.count)
                let created = rows.map { $0["created_at"] as! String }
                #expect(created == created.sorted(by: >), "\(route) is newest first")
            }
            let events = try await harness.pageThrough(client, "/v1/events", limit: 50)
            #expect(events.count == (try await harness.count("SELECT count(*) FROM billing.events")))

            // Each filter returns exactly the rows SQL says match.
            let cases: [(String, String)] = [
                ("/v1/customers?provider=mintcash", "SELECT count(*) FROM billing.customers WHERE provider = 'mintcash'"),
                ("/v1/customers?environment=test", "SELECT count(*) FROM billing.customers WHERE environment = 'test'"),
                ("/v1/subscriptions?status=active", "SELECT count(*) FROM billing.subscriptions WHERE status = 'active'"),
                (
                    "/v1/subscriptions?provider=flexprice&status=cancelled",
                    "SELECT count(*) FROM billing.subscriptions WHERE provider = 'flexprice' AND status = 'cancelled'"
                ),
                ("/v1/payments?status=succeeded", "SELECT count(*) FROM billing.payments WHERE status = 'succeeded'"),
                (
                    "/v1/payments?status=refunded&provider=mintcash",
                    "SELECT count(*) FROM billing.payments WHERE status = 'refunded' AND provider = 'mintcash'"
                ),
                ("/v1/payments?environment=live&order=asc", "SELECT count(*) FROM billing.payments WHERE environment = 'live'"),
                ("/v1/wallets?provider=mintfax", "SELECT count(*) FROM billing.wallets WHERE provider = 'mintfax'"),
                ("/v1/events?provider=flexprice", "SELECT count(*) FROM billing.events WHERE provider = 'flexprice'"),
                ("/v1/events?type=payment.succeeded", "SELECT count(*) FROM billing.events WHERE event_type = 'payment.succeeded'"),
            ]
            for (path, sql) in cases {
                let rows = try await harness.pageThrough(client, path, limit: 13)
                let expected = try await harness.count(sql)
                #expect(rows.count == expected, "\(path)")
            }

            // Time ranges: created_gte / created_lt split the payments without overlap.
            let middle = try await harness.pool.query(
                "SELECT to_char(percentile_disc(0.5) WITHIN GROUP (ORDER BY created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM billing.payments"
            ).first!.decode(String.self, at: 0)
            let before = try await harness.pageThrough(client, "/v1/payments?created_lt=\(middle)", limit: 20)
            let after = try await harness.pageThrough(client, "/v1/payments?created_gte=\(middle)", limit: 20)
            #expect(before.count + after.count == (try await harness.count("SELECT count(*) FROM billing.payments")))
            #expect(!after.isEmpty)

            // A customer with everything it owns; its filters by id, email and external id.
            let customerID = try await harness.pool.query(
                """
                SELECT c.id::text FROM billing.customers c WHERE EXISTS (SELECT 1 FROM billing.payments p WHERE p.customer_id = c.id)
                ORDER BY c.id LIMIT 1
                """
            ).first!.decode(String.self, at: 0)
            let customer = try await harness.get(client, "/v1/customers/\(customerID)")
            #expect(customer.status == .ok)
            let detail = try customer.json()
            #expect(detail["id"] as? String == customerID)
            #expect(detail["object"] as? String == "customer")
            let latest = try #require(detail["latest_payments"] as? [[String: Any]])
            #expect(!latest.isEmpty && latest.allSatisfy { $0["customer_id"] as? String == customerID })
            #expect(detail["subscriptions"] is [Any] && detail["wallets"] is [Any])
            let byCustomer = try await harness.pageThrough(client, "/v1/payments?customer_id=\(customerID)", limit: 2)
            #expect(byCustomer.count == (try await harness.count("SELECT count(*) FROM billing.payments WHERE customer_id = '\(customerID)'")))
            let customerEvents = try await harness.pageThrough(client, "/v1/events?customer_id=\(customerID)", limit: 5)
            #expect(!customerEvents.isEmpty && customerEvents.allSatisfy { $0["customer_id"] as? String == customerID })

            // Money is exact text; refunds ride along with their payment.
            let refunded = try await harness.pool.query(
                """
                SELECT p.id::text, billing.money(p.amount_refunded, p.currency)::text FROM billing.payments p WHERE EXISTS (SELECT 1 FROM billing.refunds r WHERE r.payment_id = p.id) LIMIT 1
                """
            ).first!.decode((String, String?).self)
            let payment = try await harness.get(client, "/v1/payments/\(refunded.0)").json()
            #expect(payment["amount_refunded"] as? String == refunded.1)
            let refunds = try #require(payment["refunds"] as? [[String: Any]])
            #expect(!refunds.isEmpty && refunds.allSatisfy { $0["payment_id"] as? String == refunded.0 && $0["amount"] is String })

            // An event carries its exact payload, and /payload the exact bytes.
            let stored = try await harness.pool.query("SELECT id::text, convert_from(raw_body, 'UTF8') FROM billing.events ORDER BY position LIMIT 1")
                .first!.decode((String, String).self)
            let event = try await harness.get(client, "/v1/events/\(stored.0)")
            #expect(event.status == .ok)
            #expect(event.body.hasSuffix("\"payload\": \(stored.1)}"))
            #expect(try event.json()["payload"] is [String: Any])
            let raw = try await harness.get(client, "/v1/events/\(stored.0)/payload")
            #expect(raw.body == stored.1)

            // Wallet transactions under their wallet.
            let walletID = try await harness.pool.query("SELECT wallet_id::text FROM billing.wallet_transactions WHERE wallet_id IS NOT NULL LIMIT 1")
                .first!.decode(String.self, at: 0)
            let transactions = try await harness.pageThrough(client, "/v1/wallets/\(walletID)/transactions", limit: 3)
            #expect(!transactions.isEmpty && transactions.allSatisfy { $0["wallet_id"] as? String == walletID })
        }
    }

    @Test func unknownIDsAre404() async throws {
        try await ReceiverHarness.run { harness, client in
            for path in ["/v1/customers/", "/v1/subscriptions/", "/v1/payments/", "/v1/wallets/", "/v1/events/"] {
                let missing = try await harness.get(client, path + UUID().uuidString.lowercased())
                #expect(missing.status == .notFound, "\(path)")
                #expect(missing.headers[.contentType] == "application/problem+json")
                #expect(try await harness.get(client, path + "not-an-id").status == .notFound)
            }
            #expect(try await harness.get(client, "/v1/wallets/\(UUID().uuidString)/transactions").status == .notFound)
            #expect(try await harness.get(client, "/v1/events/\(UUID().uuidString)/payload").status == .notFound)
        }
    }

    @Test(arguments: [
        ("/v1/payments?colour=red", "colour", "unknown_parameter"),
        ("/v1/payments?status=paid", "status", "invalid_parameter"),
        ("/v1/payments?created_gte=yesterday", "created_gte", "invalid_parameter"),
        ("/v1/payments?created_lt=2026-02-30", "created_lt", "invalid_parameter"),
        ("/v1/payments?limit=0", "limit", "invalid_parameter"),
        ("/v1/payments?limit=101", "limit", "invalid_parameter"),
        ("/v1/payments?limit=ten", "limit", "invalid_parameter"),
        ("/v1/payments?limit=5&limit=6", "limit", "invalid_parameter"),
        ("/v1/payments?order=sideways", "order", "invalid_parameter"),
        ("/v1/payments?customer_id=42", "customer_id", "invalid_parameter"),
        ("/v1/payments?provider=stripe", "provider", "invalid_parameter"),
        ("/v1/customers?email=", "email", "invalid_parameter"),
        ("/v1/customers?email=%E0%A4%A", "email", "invalid_parameter"),
        ("/v1/customers?email=%FF", "email", "invalid_parameter"),
        ("/v1/events?occurred_gte=2026-13-01", "occurred_gte", "invalid_parameter"),
        ("/v1/events?min_position=-1", "min_position", "invalid_parameter"),
        ("/v1/payments?cursor=abc", "cursor", "invalid_cursor"),
        ("/v1/payments/00000000-0000-0000-0000-000000000000?limit=5", "limit", "unknown_parameter"),
    ])
    func badParametersAre400NamingTheParameter(path: String, parameter: String, code: String) async throws {
        try await ReceiverHarness.run { harness, client in
            let answer = try await harness.get(client, path)
            #expect(answer.status == .badRequest, "\(path): \(answer.body)")
            #expect(answer.headers[.contentType] == "application/problem+json")
            let problem = try answer.json()
            #expect(problem["parameter"] as? String == parameter)
            #expect(problem["code"] as? String == code)
        }
    }

    @Test func injectionAttemptsAreJustValues() async throws {
        try await ReceiverHarness.run { harness, client in
            for value in ["' OR 1=1 --", "x'); DROP TABLE billing.events; --", "\\\\'", "%27%3B%20SELECT%201"] {
                let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let answer = try await harness.get(client, "/v1/customers?email=\(encoded)&external_id=\(encoded)&provider_id=\(encoded)")
                #expect(answer.status == .ok)
                #expect(try answer.data().isEmpty)
            }
            #expect(try await harness.count("SELECT count(*) FROM billing.events") == 0)
        }
    }
}
