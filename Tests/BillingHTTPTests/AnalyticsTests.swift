import BillingCore
import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

/// The analyst surface: every example query of docs/analytics.md (taken from the document itself)
/// runs on a generated history delivered out of order with duplicates and answers what the
/// internal tables say; the history views end in the read models' state; `billing_analyst` reads
/// `analytics` and nothing else.
@Suite struct AnalyticsTests {
    @Test func everyExampleQueryAnswersWhatTheTablesSay() async throws {
        let examples = try AnalyticsExamples.load()
        #expect(examples.count >= 12)
        try await ReceiverHarness.run { harness, _ in
            let seeded = try await harness.seedShuffledHistory(seed: 41, entities: 150)
            try await harness.project()
            let pool = harness.pool
            func scalar<T: PostgresDecodable>(_ sql: String, as _: T.Type = T.self) async throws -> T {
                try await pool.query(PostgresQuery(unsafeSQL: sql)).rows[0].decode(T.self, at: 0)
            }
            let customer = try await scalar(
                "SELECT c.id::text FROM billing.customers c ORDER BY (SELECT count(*) FROM billing.events e WHERE e.provider = c.provider AND e.customer_provider_id = c.provider_id) DESC, c.id LIMIT 1",
                as: String.self)
            let payment = try await scalar(
                "SELECT payment_id::text FROM billing.refunds WHERE status = 'succeeded' ORDER BY id LIMIT 1", as: String.self)
            let middle = try await scalar(
                "SELECT (min(as_of) + (max(as_of) - min(as_of)) / 2)::text FROM billing.subscription_versions", as: String.self)
            let variables = ["as_of": middle, "customer_id": customer, "payment_id": payment]
            var checked: Set<String> = []
            for (name, sql) in examples {
                let rows = try await pool.query(PostgresQuery(unsafeSQL: AnalyticsExamples.bind(sql, variables))).rows
                checked.insert(name)
                func sum(_ column: String) throws -> Decimal {
                    try rows.reduce(Decimal(0)) { $0 + (try $1.decode(column, as: Decimal?.self) ?? 0) }
                }
                switch name {
                case "daily_payment_volume":
                    #expect(
                        try sum("volume")
                            == (try await scalar(
                                "SELECT sum(amount) FROM billing.payments WHERE environment = 'live' AND status IN ('succeeded', 'partially_refunded', 'refunded')"
                            )))
                    #expect(
                        try sum("payments")
                            == Decimal(
                                try await scalar(
                                    "SELECT count(*) FROM billing.payments WHERE environment = 'live' AND status IN ('succeeded', 'partially_refunded', 'refunded')",
                                    as: Int.self)))
                case "failed_payment_rate":
                    #expect(
                        try sum("failed")
                            == Decimal(
                                try await scalar(
                                    "SELECT count(*) FROM billing.payments WHERE environment = 'live' AND status = 'failed'", as: Int.self)))
                    #expect(
                        try sum("payments")
                            == Decimal(try await scalar("SELECT count(*) FROM billing.payments WHERE environment = 'live'", as: Int.self)))
                case "top_failure_codes":
                    #expect(rows.count <= 10)
                    #expect(
                        try sum("failures")
                            <= Decimal(
                                try await scalar(
                                    "SELECT count(*) FROM billing.payments WHERE environment = 'live' AND status = 'failed'", as: Int.self)))
                case "refund_ratio":
                    #expect(!rows.isEmpty)
                    #expect(try sum("refunded") > 0)
                    for row in rows { #expect(try row.decode("refund_ratio", as: Decimal.self) <= 1) }
                case "active_subscriptions_on_date":
                    #expect(
                        try sum("active")
                            == Decimal(
                                try await scalar(
                                    """
                                    SELECT count(*) FROM billing.subscriptions s WHERE s.environment = 'live' AND (
                                        SELECT v.status FROM billing.subscription_versions v WHERE v.id = s.id AND v.as_of <= '\(middle)'
                                        ORDER BY v.as_of DESC, v.rank DESC, v.event_id DESC LIMIT 1) = 'active'
                                    """, as: Int.self)))
                case "churn_by_month":
                    #expect(
                        try sum("churned")
                            == Decimal(
                                try await scalar(
                                    "SELECT count(DISTINCT v.id) FROM billing.subscription_versions v JOIN billing.subscriptions s USING (id) WHERE s.environment = 'live' AND v.status = 'cancelled'",
                                    as: Int.self)))
                case "wallet_credit_granted_vs_consumed":
                    #expect(
                        try sum("granted")
                            == (try await scalar(
                                "SELECT COALESCE(sum(credit_amount), 0) FROM billing.wallet_transactions WHERE environment = 'live' AND status = 'completed' AND transaction_type = 'credit'"
                            )))
                    #expect(try sum("granted") > 0)
                case "low_balance_alerts":
                    #expect(
                        try sum("alerts")
                            == Decimal(
                                try await scalar(
                                    "SELECT count(*) FROM billing.events WHERE environment = 'live' AND event_type IN ('wallet.credit_balance.dropped', 'balance.low')",
                                    as: Int.self)))
                    #expect(!rows.isEmpty)
                case "delivery_delay":
                    #expect(
                        try sum("events")
                            == Decimal(
                                try await scalar(
                                    "SELECT count(*) FROM billing.events WHERE channel = 'webhook' AND occurred_at IS NOT NULL", as: Int.self)))
                case "events_per_type_per_day":
                    #expect(try sum("events") == Decimal(seeded.stored))
                case "duplicates_and_quarantine":
                    #expect(try sum("duplicates") == Decimal(seeded.duplicates))
                    #expect(try sum("stored") == Decimal(seeded.stored))
                    #expect(try sum("quarantined") == Decimal(seeded.quarantined))
                    #expect(try sum("open_quarantine") == Decimal(seeded.quarantined))
                case "customer_timeline":
                    #expect(
                        rows.count
                            == (try await scalar(
                                "SELECT count(*) FROM billing.events e JOIN billing.customers c ON e.provider = c.provider AND e.environment = c.environment AND e.customer_provider_id = c.provider_id WHERE c.id = '\(customer)'",
                                as: Int.self)))
                    #expect(rows.count > 1)
                    let times = try rows.map { try $0.decode("event_time", as: Date.self) }
                    #expect(times == times.sorted())
                case "subscriptions_as_of":
                    #expect(
                        rows.count
                            == (try await scalar(
                                "SELECT count(DISTINCT id) FROM billing.subscription_versions WHERE as_of <= '\(middle)'", as: Int.self)))
                case "payment_life":
                    #expect(rows.count >= 2)
                    #expect(try rows.last!.decode("valid_to", as: Date?.self) == nil)
                    #expect(try rows.last!.decode("amount_refunded", as: Decimal?.self) ?? 0 > 0)
                case "freshness":
                    #expect(rows.count == 4 + (try await scalar("SELECT count(DISTINCT (provider, environment)) FROM billing.events", as: Int.self)))
                    #expect(try sum("events_behind") == 0)
                default:
                    Issue.record("docs/analytics.md has an example \(name) that no test checks")
                }
            }
            #expect(checked.count == examples.count, "example names are unique")
        }
    }

    @Test func theCurrentHistoryRowOfEveryEntityIsItsReadModelState() async throws {
        try await ReceiverHarness.run { harness, _ in
            _ = try await harness.seedShuffledHistory(seed: 43, entities: 150)
            try await harness.project()
            let subscriptions = try await harness.count(
                """
                SELECT count(*) FROM billing.subscriptions s
                LEFT JOIN analytics.subscription_history h ON h.subscription_id = s.id AND h.valid_to IS NULL
                WHERE s.state_as_of IS NOT NULL AND (h.subscription_id IS NULL
                   OR ROW(h.status, h.provider_status, h.plan_id, h.amount, h.currency, h.current_period_end, h.cancelled_at, h.valid_from)
                      IS DISTINCT FROM ROW(s.status, s.provider_status, s.plan_id, s.amount, s.currency, s.current_period_end, s.cancelled_at, s.state_as_of))
                """)
            #expect(subscriptions == 0)
            let payments = try await harness.count(
                """
                SELECT count(*) FROM billing.payments p
                LEFT JOIN analytics.payment_history h ON h.payment_id = p.id AND h.valid_to IS NULL
                WHERE (p.status_as_of IS NOT NULL OR p.details_as_of IS NOT NULL) AND (h.payment_id IS NULL
                   OR ROW(h.status, h.provider_status, h.amount, h.currency, h.amount_refunded)
                      IS DISTINCT FROM ROW(p.status, p.provider_status, p.amount, p.currency, p.amount_refunded))
                """)
            #expect(payments == 0)
            // Histories are continuous: each row ends where the next begins.
            let gaps = try await harness.count(
                """
                SELECT count(*) FROM (
                    SELECT valid_to, lead(valid_from) OVER (PARTITION BY subscription_id ORDER BY valid_from) AS next
                    FROM analytics.subscription_history) t
                WHERE t.next IS NOT NULL AND t.valid_to IS DISTINCT FROM t.next
                """)
            #expect(gaps == 0)
            #expect(try await harness.count("SELECT count(*) FROM analytics.payment_history WHERE status IN ('partially_refunded', 'refunded')") > 0)
            #expect(try await harness.count("SELECT count(*) FROM analytics.subscription_history WHERE valid_to IS NOT NULL") > 0)
            // Every wallet transaction has its balance row.
            #expect(
                try await harness.count("SELECT count(*) FROM analytics.wallet_balance_history WHERE source = 'transaction'")
                    == (try await harness.count("SELECT count(*) FROM billing.wallet_transactions")))
            #expect(try await harness.count("SELECT count(*) FROM analytics.wallet_balance_history WHERE source = 'snapshot'") > 0)
        }
    }

    @Test func theAnalystRoleReadsAnalyticsAndNothingElse() async throws {
        try await ReceiverHarness.run { harness, _ in
            _ = try await harness.seedShuffledHistory(seed: 44, entities: 20)
            try await harness.project()
            let login = "analyst_\(UInt32.random(in: 0...UInt32.max))"
            try await harness.pool.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(login) LOGIN IN ROLE billing_analyst"))
            var configuration = harness.configuration
            configuration.connectionString += " user=\(login)"
            let analyst = try await PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            let views = try await harness.pool.query(
                "SELECT table_name::text FROM information_schema.views WHERE table_schema = 'analytics' ORDER BY 1"
            )
            .decodeColumn(String.self)
            #expect(
                views == [
                    "backfills", "customers", "deliveries", "event_months", "event_signatures", "events", "freshness", "payment_history", "payments",
                    "quarantine",
                    "refunds",
                    "subscription_history", "subscriptions", "wallet_balance_history", "wallet_transactions", "wallets",
                ])
            for view in views {
                await #expect(throws: Never.self, "analytics.\(view)") {
                    _ = try await analyst.query(PostgresQuery(unsafeSQL: "SELECT * FROM analytics.\(view) LIMIT 5"))
                }
            }
            #expect(try await analyst.query("SELECT count(*) FROM analytics.events").rows[0].decode(Int.self, at: 0) > 0)
            let tables = try await harness.pool.query("SELECT tablename::text FROM pg_tables WHERE schemaname = 'billing'").decodeColumn(String.self)
            #expect(tables.contains("api_keys") && tables.contains("events"))
            var refused: [String] = []
            for table in tables {
                do {
                    _ = try await analyst.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM billing.\(table) LIMIT 1"))
                } catch let error as PostgresError where error.code == "42501" {
                    refused.append(table)
                }
            }
            #expect(refused.sorted() == tables.sorted())
            for write in [
                "INSERT INTO billing.events (id) VALUES (gen_random_uuid())",
                "DELETE FROM analytics.customers",
                "UPDATE analytics.payments SET status = 'failed'",
                "INSERT INTO analytics.refunds (refund_id) VALUES (gen_random_uuid())",
                "CREATE TABLE analytics.mine (x int)",
                "CREATE TABLE public.mine (x int)",
                "SELECT billing.read_model_id('customers', 'mintcash', 'live', 'x') FROM billing.customers",
            ] {
                let error = await #expect(throws: PostgresError.self, "\(write)") { try await analyst.query(PostgresQuery(unsafeSQL: write)) }
                #expect(error?.code == "42501", "\(write): \(String(describing: error))")
            }
            await analyst.close()
        }
    }
}

extension ReceiverHarness {
    /// What ``seedShuffledHistory(seed:entities:)`` delivered.
    struct SeededHistory {
        var stored = 0
        var duplicates = 0
        var quarantined = 0
    }

    /// A generated history of all three providers delivered in random order, about one delivery in
    /// ten twice, plus a few deliveries of unknown types (quarantined); each recorded in the
    /// delivery log as the receiver records it.
    func seedShuffledHistory(seed: UInt64, entities: Int) async throws -> SeededHistory {
        var generator = HistoryGenerator(seed: seed)
        var deliveries = generator.history(entities: entities)
        for _ in 0..<(deliveries.count / 10) { deliveries.append(deliveries[generator.int(0...(deliveries.count - 1))]) }
        for index in 0..<3 {
            deliveries.append(
                GeneratedDelivery(
                    provider: "mintfax", environment: "live",
                    body: #"{"id":"evt_unknown\#(seed)x\#(index)","type":"fax.teleported","created":1780000000,"data":{"object":{}}}"#,
                    deliveryID: "evt_unknown\(seed)x\(index)"))
        }
        for i in stride(from: deliveries.count - 1, to: 0, by: -1) { deliveries.swapAt(i, generator.int(0...i)) }
        var seeded = SeededHistory()
        for generated in deliveries {
            switch try await ingest(generated) {
            case .stored: seeded.stored += 1
            case .duplicate: seeded.duplicates += 1
            case .quarantined: seeded.quarantined += 1
            }
        }
        await ingestor.flush()
        return seeded
    }
}
