import BillingCore
import BillingStore
import Foundation
import HTTPTypes
import Postgres
import TestSupport
import Testing

/// What outside clients found (issue 20, data correctness): genuine repeats of a Flexprice state,
/// read-your-writes that must mean it, one money format, amount bounds. Over HTTP, against the real
/// receiver, query API and projector.
@Suite(.serialized) struct ReadYourWritesAndDedupeTests {
    /// A Svix message id (`msg_` + base62 KSUID) created at `time`.
    static func svixID(at time: Date) -> String {
        var bytes = withUnsafeBytes(of: UInt32(time.timeIntervalSince1970 - 1_400_000_000).bigEndian) { Array($0) }
        bytes += (0..<16).map { _ in UInt8.random(in: 0...255) }
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var digits: [Character] = []
        var number = bytes
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for index in number.indices {
                let value = remainder * 256 + Int(number[index])
                number[index] = UInt8(value / 62)
                remainder = value % 62
            }
            digits.append(alphabet[remainder])
        }
        return "msg_" + String(repeating: "0", count: 27 - digits.count) + String(digits.reversed())
    }

    static let dropped =
        #"{"event_type":"wallet.credit_balance.dropped","wallet":{"id":"wallet_rep","customer_id":"cust_rep","currency":"usd","balance":"5","credit_balance":"5","wallet_status":"active"},"alert":{"state":"in_alarm","credit_balance":"5","current_balance":"5"}}"#
    static let recovered =
        #"{"event_type":"wallet.credit_balance.recovered","wallet":{"id":"wallet_rep","customer_id":"cust_rep","currency":"usd","balance":"50","credit_balance":"50","wallet_status":"active"},"alert":{"state":"ok","credit_balance":"50","current_balance":"50"}}"#

    @Test func aGenuineRepeatOfAStateIsStoredAndFoldedLastWhileARetriggerIsADuplicate() async throws {
        try await ReceiverHarness.run { harness, client in
            let now = Date()
            func deliver(_ body: String, at time: Date) async throws -> [String: Any] {
                let answer = try await ReceiverHarness.post(
                    client, "/webhooks/flexprice", body: body, headers: ReceiverHarness.signed("flexprice", body, id: Self.svixID(at: time)))
                #expect(answer.status == .ok, "\(answer.body)")
                return try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as! [String: Any]
            }
            let first = try await deliver(Self.dropped, at: now - 3 * 86_400)
            #expect(first["status"] as? String == "stored")
            // A Flexprice retrigger of the first: same body, new svix-id, hours later.
            let retrigger = try await deliver(Self.dropped, at: now - 3 * 86_400 + 5 * 3_600)
            #expect(retrigger["status"] as? String == "duplicate")
            #expect(retrigger["event_id"] as? String == first["event_id"] as? String)
            #expect(retrigger["position"] as? Int == first["position"] as? Int)
            #expect(try await deliver(Self.recovered, at: now - 2 * 86_400)["status"] as? String == "stored")
            // The wallet drops again: a byte-identical body, two days after the first.
            let again = try await deliver(Self.dropped, at: now - 86_400)
            #expect(again["status"] as? String == "stored")
            #expect(again["event_id"] as? String != first["event_id"] as? String)
            #expect(try await harness.eventCount() == 3)
            try await harness.project()
            let wallet = try await harness.get(client, "/v1/wallets?provider=flexprice")
            #expect(try wallet.data().first?["credit_balance_alert_state"] as? String == "in_alarm")
        }
    }

    @Test func minPositionNeedsTheEventOnThisDatabaseAndItsProjection() async throws {
        try await ReceiverHarness.run(positionTimeout: .milliseconds(400)) { harness, client in
            let body = ProviderFixtures.mintcashPayment(eventID: UUID().uuidString, amount: "0.1")
            let ack = try await ReceiverHarness.post(client, "/webhooks/mintcash", body: body, headers: ReceiverHarness.signed("mintcash", body))
            let position = try #require((try JSONSerialization.jsonObject(with: Data(ack.body.utf8)) as? [String: Any])?["position"] as? Int)
            // Not projected yet: the client's own write is not readable, so 503, never 200 with nothing.
            let early = try await harness.get(client, "/v1/payments?min_position=\(position)")
            #expect(early.status == .serviceUnavailable)
            #expect(try early.json()["code"] as? String == "position_not_reached")
            try await harness.project()
            let read = try await harness.get(client, "/v1/payments?min_position=\(position)")
            #expect(read.status == .ok)
            #expect(try read.data().count == 1)
            // Money in the one format: "0.10" USD, as in /v1/events and the analytics views.
            #expect(try read.data()[0]["amount"] as? String == "0.10")
            #expect(try read.data()[0]["amount_refundable"] as? String == "0.10")
            let event = try await harness.get(client, "/v1/events?provider=mintcash")
            #expect(try event.data()[0]["amount"] as? String == "0.10")
            let analytics = try await harness.pool.query("SELECT amount::text, amount_refundable::text FROM analytics.payments").first!
            #expect(try analytics.decode((String, String).self) == ("0.10", "0.10"))
            // A position beyond the log is not reached, whatever the projections say.
            let beyond = try await harness.get(client, "/v1/payments?min_position=\(position + 1000)")
            #expect(beyond.status == .serviceUnavailable)
            let object = try await harness.get(client, "/v1/payments/\(try read.data()[0]["id"] as! String)?min_position=\(position + 1000)")
            #expect(object.status == .serviceUnavailable)
        }
    }

    @Test func zeroDecimalCurrenciesKeepTheirFormAndTheSubscriptionsMonthlyAmountFollowsTheCurrency() async throws {
        try await ReceiverHarness.run { harness, client in
            let body = ProviderFixtures.mintcashPayment(eventID: UUID().uuidString, amount: "500", currency: "JPY")
            _ = try await ReceiverHarness.post(client, "/webhooks/mintcash", body: body, headers: ReceiverHarness.signed("mintcash", body))
            try await harness.project()
            #expect(try await harness.get(client, "/v1/payments").data()[0]["amount"] as? String == "500")
            let money = try await harness.pool.query(
                "SELECT billing.money(0.125, 'USD')::text, billing.money(1.5, 'KWD')::text, billing.money(1.50, NULL)::text"
            ).first!
            #expect(try money.decode((String, String, String).self) == ("0.125", "1.500", "1.50"))
        }
    }

    /// `billing.minor_unit_digits` (SQL) and `Currency.minorUnitDigits` (Swift) agree on every code.
    @Test func theSQLAndSwiftMinorUnitsAgree() async throws {
        try await ReceiverHarness.run { harness, _ in
            var codes: [String] = []
            for first in UInt8(ascii: "A")...UInt8(ascii: "Z") {
                for second in UInt8(ascii: "A")...UInt8(ascii: "Z") {
                    codes.append(String(decoding: [first, second, UInt8(ascii: "D")], as: UTF8.self))
                }
            }
            codes += ["JPY", "KRW", "CLP", "XOF", "XPF", "VUV", "UYI", "BHD", "TND", "OMR", "KWD", "EUR", "GBP"]
            let rows = try await harness.pool.query("SELECT c, billing.minor_unit_digits(c) FROM unnest(\(codes)::text[]) AS c")
            for row in rows {
                let (code, digits) = try row.decode((String, Int).self)
                #expect(digits == Currency.minorUnitDigits(code), "\(code)")
            }
        }
    }

    @Test(arguments: [
        ("1e400", "amount_out_of_range"), ("1234567890123456789", "amount_out_of_range"), ("0.0000000000001", "amount_out_of_range"),
        ("-5", "negative_amount"),
    ])
    func amountsOutsideTheBoundsAreQuarantinedWithTheirReason(amount: String, reason: String) async throws {
        try await ReceiverHarness.run { harness, client in
            let body = ProviderFixtures.mintcashPayment(eventID: UUID().uuidString, amount: amount)
            let answer = try await ReceiverHarness.post(client, "/webhooks/mintcash", body: body, headers: ReceiverHarness.signed("mintcash", body))
            #expect(answer.status == .ok)
            #expect(answer.body.contains(#""status":"quarantined""#) && answer.body.contains(reason), "\(answer.body)")
            #expect(try await harness.eventCount() == 0)
        }
    }

    @Test func boundaryAmountsAndNegativeBalancesAreStored() async throws {
        try await ReceiverHarness.run { harness, client in
            let largest = ProviderFixtures.mintcashPayment(eventID: UUID().uuidString, amount: "999999999999999999.000000000001")
            let answer = try await ReceiverHarness.post(
                client, "/webhooks/mintcash", body: largest, headers: ReceiverHarness.signed("mintcash", largest))
            #expect(answer.body.contains(#""status":"stored""#), "\(answer.body)")
            let overdrawn = Self.recovered.replacingOccurrences(of: #""balance":"50""#, with: #""balance":"-12.5""#)
            let wallet = try await ReceiverHarness.post(
                client, "/webhooks/flexprice", body: overdrawn, headers: ReceiverHarness.signed("flexprice", overdrawn))
            #expect(wallet.body.contains(#""status":"stored""#), "\(wallet.body)")
            try await harness.project()
            #expect(try await harness.get(client, "/v1/wallets").data()[0]["balance"] as? String == "-12.50")
        }
    }
}
