import BillingCore
import Foundation
import Postgres
import TestSupport
import Testing

@testable import BillingStore

/// A backfill replays months of Flexprice history in minutes: identical bodies are told apart by
/// their message times (the wrapper's delivery id and timestamp), never by our import time.
@Suite struct BackfillRepeatsTests {
    static let dropped =
        #"{"event_type":"wallet.credit_balance.dropped","wallet":{"id":"wallet_b","customer_id":"cust_b","currency":"usd","balance":"5","credit_balance":"5","wallet_status":"active"}}"#
    static let recovered =
        #"{"event_type":"wallet.credit_balance.recovered","wallet":{"id":"wallet_b","customer_id":"cust_b","currency":"usd","balance":"50","credit_balance":"50","wallet_status":"active"}}"#

    static func line(_ id: String, _ time: String, _ body: String) -> String { #"{"id":"\#(id)","timestamp":"\#(time)","body":\#(body)}"# }

    @Test func genuineRepeatsMonthsApartSurviveAndARetriggerWithinTheWindowDoesNot() async throws {
        try await withMigratedPool { pool in
            let directory = exportDirectory()
            let lines = [
                Self.line("msg_1", "2026-03-01T10:00:00Z", Self.dropped),
                Self.line("msg_2", "2026-03-01T16:00:00Z", Self.dropped),  // a retrigger six hours later: same event
                Self.line("msg_3", "2026-04-01T10:00:00Z", Self.recovered),
                Self.line("msg_4", "2026-05-01T10:00:00Z", Self.dropped),  // the state genuinely repeats
                Self.line("msg_5", "2026-05-02T09:59:59Z", Self.dropped),  // 23:59:59 later: still the same event
                Self.line("msg_6", "2026-05-02T10:00:00Z", Self.dropped),  // exactly 24 h after msg_4: a new one
            ]
            try (lines.joined(separator: "\n") + "\n").write(toFile: "\(directory)/wallets.ndjson", atomically: true, encoding: .utf8)
            let report = try await importFile("\(directory)/wallets.ndjson", provider: .flexprice, environment: .live, into: pool.configuration)
            #expect(report.counts.inserted == 4)
            #expect(report.counts.duplicates == 2)
            let stored = try await pool.query("SELECT delivery_id FROM billing.events ORDER BY occurred_at").decodeColumn(String.self)
            #expect(stored == ["msg_1", "msg_3", "msg_4", "msg_6"])
            // The same history arriving again by webhook later is recognized event by event.
            let webhook = IncomingDelivery(
                provider: .flexprice, environment: .live, environmentIsExplicit: true, body: Array(Self.dropped.utf8), deliveryID: "msg_7",
                deliveryTimestamp: Date(timeIntervalSince1970: 1_777_723_200))  // 2026-05-02T12:00:00Z: within 24 h of msg_6
            try await storeAsWebhooks([webhook], in: pool)
            #expect(try await pool.query("SELECT count(*) FROM billing.events").first!.decode(Int.self, at: 0) == 4)
        }
    }
}
