import BillingCore
import Foundation
import Postgres
import TestSupport
import Testing

@testable import BillingStore

@Suite struct BackfillMergeTests {
    private func subscriptionWebhook(_ id: String, status: String, updatedAt: String, svixID: String) -> IncomingDelivery {
        let body =
            #"{"event_type":"subscription.updated","subscription":{"id":"\#(id)","customer_id":"cust_1","plan_id":"plan_1","subscription_status":"\#(status)","currency":"usd","updated_at":"\#(updatedAt)"}}"#
        return IncomingDelivery(
            provider: .flexprice, environment: .live, environmentIsExplicit: true, body: Array(body.utf8), deliveryID: svixID,
            deliveryTimestamp: Date(timeIntervalSince1970: 1_780_000_000))
    }

    private func statuses(_ pool: PostgresPool) async throws -> [String] {
        try await pool.query("SELECT provider_id || '=' || provider_status FROM billing.subscriptions ORDER BY provider_id").decodeColumn(String.self)
    }

    @Test func csvSnapshotsMergeWithNewerAndOlderWebhooksByUpdatedAt() async throws {
        try await withMigratedPool { pool in
            try await withProjector(pool) {
                // Before the import: webhooks for subs_1 (newer than its snapshot) and subs_2 (older).
                try await storeAsWebhooks(
                    [
                        subscriptionWebhook("subs_1", status: "active", updatedAt: "2026-06-01T10:00:00Z", svixID: "msg_a"),
                        subscriptionWebhook("subs_2", status: "active", updatedAt: "2026-06-01T10:00:00Z", svixID: "msg_b"),
                    ], in: pool)
                let directory = exportDirectory()
                let csv = """
                    id,customer_id,plan_id,subscription_status,currency,billing_period_count,cancel_at_period_end,metadata,created_at,updated_at\r
                    subs_1,cust_1,plan_1,trialing,usd,1,false,,2026-01-01T00:00:00Z,2026-05-01T10:00:00Z\r
                    subs_2,cust_1,plan_1,cancelled,usd,1,true,"{""source"":""import""}",2026-01-01T00:00:00Z,2026-07-01T10:00:00Z\r
                    subs_3,cust_1,plan_2,active,usd,1,false,,2026-01-01T00:00:00Z,2026-06-15T00:00:00Z\r

                    """
                try csv.write(toFile: "\(directory)/subscriptions.csv", atomically: true, encoding: .utf8)
                let report = try await importFile(
                    "\(directory)/subscriptions.csv", provider: .flexprice, environment: .live, entity: .subscriptions, into: pool.configuration)
                #expect(report.counts == BackfillCounts(read: 3, inserted: 3, duplicates: 0, snapshots: 3, rejected: 0))
                // After the import: an older webhook for subs_3 (loses) and a newer one for subs_1 (wins again).
                try await storeAsWebhooks(
                    [
                        subscriptionWebhook("subs_3", status: "paused", updatedAt: "2026-06-01T00:00:00Z", svixID: "msg_c"),
                        subscriptionWebhook("subs_1", status: "paused", updatedAt: "2026-06-02T00:00:00Z", svixID: "msg_d"),
                    ], in: pool)
                try await waitUntilProjected(pool)
                #expect(try await statuses(pool) == ["subs_1=paused", "subs_2=cancelled", "subs_3=active"])
                let metadata = try await pool.query("SELECT metadata::text FROM billing.subscriptions WHERE provider_id = 'subs_2'")
                    .decodeColumn(String?.self)
                #expect(metadata == [#"{"source": "import"}"#])
                let snapshots = try await pool.query(
                    """
                    SELECT event_type || ' ' || channel || ' ' || as_of::text FROM billing.events WHERE channel = 'snapshot' ORDER BY entity_provider_id
                    """
                ).decodeColumn(String.self)
                #expect(
                    snapshots == [
                        "subscription.snapshot snapshot 2026-05-01 10:00:00+00", "subscription.snapshot snapshot 2026-07-01 10:00:00+00",
                        "subscription.snapshot snapshot 2026-06-15 00:00:00+00",
                    ])
                // The same rows again (an export that overlaps) add nothing.
                try (csv + "subs_2,cust_1,plan_1,cancelled,usd,1,true,,2026-01-01T00:00:00Z,2026-07-01T10:00:00Z\n")
                    .write(toFile: "\(directory)/subscriptions-2.csv", atomically: true, encoding: .utf8)
                let overlap = try await importFile(
                    "\(directory)/subscriptions-2.csv", provider: .flexprice, environment: .live, entity: .subscriptions, into: pool.configuration)
                #expect(overlap.counts == BackfillCounts(read: 4, inserted: 0, duplicates: 4, snapshots: 0, rejected: 0))
            }
        }
    }

    @Test func backfilledHistoryProjectsExactlyLikeTheSameHistoryDeliveredByWebhook() async throws {
        var generator = HistoryGenerator(seed: 63)
        let history = generator.history(entities: 400)
        let export = try ExportedHistory(history, directory: exportDirectory())
        try export.write(export.lines)
        let viaWebhooks = try await withMigratedDump { pool in try await storeAsWebhooks(export.lines.map(\.delivery), in: pool) }
        let viaBackfill = try await withMigratedDump { pool in
            let counts = try await export.importAll(into: pool.configuration)
            #expect(counts.inserted == Int64(history.count) && counts.rejected == 0)
        }
        #expect(viaBackfill.count > 1_000)
        #expect(viaBackfill == viaWebhooks, "\(Set(viaBackfill).symmetricDifference(viaWebhooks).sorted().prefix(4))")
    }

    /// Runs `load` on a fresh database, projects it, and returns every read-model row.
    private func withMigratedDump(_ load: (PostgresPool) async throws -> Void) async throws -> [String] {
        var rows: [String] = []
        try await withMigratedPool { pool in
            try await load(pool)
            try await withProjector(pool) { try await waitUntilProjected(pool) }
            rows = try await pool.perform { connection in try dumpReadModels(schema: "billing", on: connection) }
        }
        return rows
    }
}
