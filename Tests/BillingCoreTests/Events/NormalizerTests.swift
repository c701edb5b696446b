import BillingCore
import Foundation
import TestSupport
import Testing

@Suite struct NormalizerTests {
    func delivery(
        _ provider: Provider, _ body: String, environment: ProviderEnvironment = .live, explicit: Bool = false,
        id: String? = nil, timestamp: Date? = Date(timeIntervalSince1970: 1_755_000_000)
    ) -> IncomingDelivery {
        IncomingDelivery(
            provider: provider, environment: environment, environmentIsExplicit: explicit, body: Array(body.utf8),
            deliveryID: id, deliveryTimestamp: timestamp, receivedAt: Date(timeIntervalSince1970: 1_755_000_100))
    }

    func reason(_ delivery: IncomingDelivery) -> QuarantineReason? {
        do {
            _ = try EventNormalizer.normalize(delivery)
            return nil
        } catch {
            return error
        }
    }

    func iso(_ text: String) -> Date { EventTimestamp.parse(iso8601: text)! }

    @Test func flexpriceMinimalPayment() throws {
        let event = try EventNormalizer.normalize(delivery(.flexprice, ProviderFixtures.flexpricePayment(), id: "msg_1"))
        #expect(event.eventType == "payment.success")
        #expect(event.entityKind == .payment)
        #expect(event.entityID == "pay_01J0")
        #expect(event.customerID == "cust_01J0")
        #expect(event.amount?.description == "49.99")
        #expect(event.currency == "USD")
        #expect(event.dedupeKey == "msg_1")
        // No updated_at and no KSUID in the id: the signed delivery timestamp.
        #expect(event.asOf == Date(timeIntervalSince1970: 1_755_000_000))
        #expect(event.id == NormalizedEvent.id(provider: .flexprice, dedupeKey: "msg_1"))
    }

    @Test func flexpriceFullWalletTransactionUsesUpdatedAt() throws {
        let event = try EventNormalizer.normalize(delivery(.flexprice, ProviderFixtures.flexpriceWalletTransactionFull, id: "msg_2"))
        #expect(event.entityKind == .walletTransaction)
        #expect(event.entityID == "wtxn_01")
        #expect(event.customerID == "cust_01")
        #expect(event.amount?.description == "100")
        #expect(event.asOf == iso("2026-08-01T10:00:01.5Z"))
    }

    @Test func flexpriceWalletAlertFromSeed() throws {
        let event = try EventNormalizer.normalize(delivery(.flexprice, ProviderFixtures.flexpriceWalletAlert, id: "msg_3"))
        #expect(event.entityKind == .wallet)
        #expect(event.entityID == "wallet_02")
        #expect(event.customerID == "cust_02")
        #expect(event.amount?.description == "12.5")
        #expect(event.currency == "EUR")
    }

    @Test func flexpriceSubscriptionAndRefund() throws {
        let subscription = try EventNormalizer.normalize(delivery(.flexprice, ProviderFixtures.flexpriceSubscription, id: "msg_4"))
        #expect(subscription.entityKind == .subscription)
        #expect(subscription.entityID == "subs_01")
        #expect(subscription.customerID == "cust_03")
        #expect(subscription.amount == nil)
        #expect(subscription.currency == "USD")
        let refund = try EventNormalizer.normalize(delivery(.flexprice, ProviderFixtures.flexpriceRefund, id: "msg_5"))
        #expect(refund.entityKind == .refund)
        #expect(refund.entityID == "rfnd_01")
        #expect(refund.amount?.description == "10.5")
    }

    @Test func flexpriceUpdatedTransactionUsesItsOwnKey() throws {
        let body =
            #"{"event_type":"wallet.transaction.updated","updated_transaction":{"id":"wtxn_9","wallet_id":"w","customer_id":"c","amount":"1.25","currency":"usd"}}"#
        let event = try EventNormalizer.normalize(delivery(.flexprice, body, id: "msg_6"))
        #expect(event.entityID == "wtxn_9")
        #expect(event.amount?.description == "1.25")
    }

    @Test func flexpriceSvixMessageTimeIsTheSnapshotTime() throws {
        // KSUID "0ujtsYcgvSTl8PAuAdqWYSMnLOv" encodes 2017-10-09T21:00:47Z.
        #expect(SvixMessageID.creationTime("msg_0ujtsYcgvSTl8PAuAdqWYSMnLOv") == Date(timeIntervalSince1970: 1_507_608_047))
        #expect(SvixMessageID.creationTime("msg_p5jXN8AQM9LWM0D4loKWxJek") == nil)
        let event = try EventNormalizer.normalize(delivery(.flexprice, ProviderFixtures.flexpricePayment(), id: "msg_0ujtsYcgvSTl8PAuAdqWYSMnLOv"))
        #expect(event.asOf == Date(timeIntervalSince1970: 1_507_608_047))
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_507_608_047))
    }

    @Test func flexpriceKnowsEveryDocumentedType() {
        let seedAndCode = [
            "subscription.created", "subscription.draft.created", "subscription.activated", "subscription.updated",
            "subscription.paused", "subscription.cancelled", "subscription.resumed", "subscription.phase.created",
            "subscription.phase.updated", "subscription.phase.deleted", "feature.created", "feature.updated", "feature.deleted",
            "feature.wallet_balance.alert", "entitlement.created", "entitlement.updated", "entitlement.deleted",
            "wallet.created", "wallet.updated", "wallet.terminated", "wallet.transaction.created", "payment.created",
            "payment.updated", "payment.failed", "payment.success", "payment.pending", "customer.created", "customer.updated",
            "customer.deleted", "invoice.update.finalized", "invoice.update.payment", "invoice.update.voided", "invoice.update",
            "invoice.payment.overdue", "wallet.credit_balance.dropped", "wallet.credit_balance.recovered",
            "wallet.ongoing_balance.dropped", "wallet.ongoing_balance.recovered", "subscription.renewal.due",
            "invoice.communication.triggered", "credit_note.created", "credit_note.updated",
            // From Flexprice's code at main, SDK 2.1.43 and its newest docs.
            "subscription.plan_changed", "entitlement.grant.exhausted", "wallet.transaction.updated",
            "wallet.ongoing_balance.updated", "subscription.spend.threshold_reached", "subscription.spend.threshold_recovered",
            "subscription.line_item_spend.threshold_reached", "subscription.line_item_spend.threshold_recovered",
            "subscription.group_spend.threshold_reached", "subscription.group_spend.threshold_recovered",
            "checkout.session.initiated", "checkout.session.completed", "checkout.session.failed", "checkout.session.expired",
            "event.rejected", "refund.created", "refund.succeeded", "refund.failed", "invoice.sync.success",
            "invoice.sync.failed", "invoice.payment.failed", "payment.attempt.failed",
        ]
        #expect(Set(seedAndCode).subtracting(EventNormalizer.knownEventTypes(.flexprice)).isEmpty)
    }

    @Test func flexpriceWithoutDeliveryIDFallsBackToTheBodyHash() throws {
        let plain = delivery(.flexprice, ProviderFixtures.flexpricePayment(), id: nil)
        let event = try EventNormalizer.normalize(plain)
        #expect(event.dedupeKey == "sha256:" + Hex.encode(plain.bodySHA256))
    }

    @Test func mintcashPaymentRefundAndSubscription() throws {
        let payment = try EventNormalizer.normalize(delivery(.mintcash, ProviderFixtures.mintcashPayment()))
        #expect(payment.entityKind == .payment)
        #expect(payment.entityID == "pmt_01HXX")
        #expect(payment.customerID == "cust_01HXX")
        #expect(payment.amount?.description == "49.99")
        #expect(payment.dedupeKey == "0b9f4d8e-3c1a-4f43-9e55-6c1f1d2a7b10")
        #expect(payment.occurredAt == iso("2026-05-22T14:32:08.412Z"))

        let refund = try EventNormalizer.normalize(delivery(.mintcash, ProviderFixtures.mintcashRefund))
        #expect(refund.entityKind == .refund)
        #expect(refund.entityID == "rfd_01HXX")
        #expect(refund.amount?.description == "49.99")
        #expect(refund.currency == "USD")
        #expect(refund.asOf == iso("2026-05-22T16:10:11.000Z"))

        let subscription = try EventNormalizer.normalize(delivery(.mintcash, ProviderFixtures.mintcashSubscription))
        #expect(subscription.entityKind == .subscription)
        #expect(subscription.environment == .test)
        #expect(subscription.amount?.description == "19.99")
    }

    @Test func mintcashAsOfPrefersDataUpdatedAt() throws {
        let withUpdate = ProviderFixtures.mintcashPayment(updatedAt: "2026-05-22T14:40:00Z")
        #expect(try EventNormalizer.normalize(delivery(.mintcash, withUpdate)).asOf == iso("2026-05-22T14:40:00Z"))
        let without = ProviderFixtures.mintcashPayment(updatedAt: nil)
        #expect(try EventNormalizer.normalize(delivery(.mintcash, without)).asOf == iso("2026-05-22T14:32:08.412Z"))
    }

    @Test func mintcashEnvironmentMustMatchAnExplicitRoute() throws {
        let body = ProviderFixtures.mintcashPayment(environment: "test")
        #expect(try EventNormalizer.normalize(delivery(.mintcash, body)).environment == .test)
        #expect(reason(delivery(.mintcash, body, environment: .live, explicit: true))?.code == .environmentMismatch)
        #expect(reason(delivery(.mintcash, ProviderFixtures.mintcashPayment(environment: "staging")))?.code == .invalidField)
    }

    @Test func mintfaxBalanceCentsBecomeMajorUnits() throws {
        let event = try EventNormalizer.normalize(delivery(.mintfax, ProviderFixtures.mintfaxBalance(), id: "evt_8aZqRm4yT3vK7pNxJ2bH9c"))
        #expect(event.entityKind == .balance)
        #expect(event.entityID == "env_01")
        #expect(event.amount?.description == "45.5")
        #expect(event.amountText == "45.50")
        #expect(event.asOf == Date(timeIntervalSince1970: 1_747_922_400))
        let yen = try EventNormalizer.normalize(delivery(.mintfax, ProviderFixtures.mintfaxBalance(available: "500", currency: "jpy")))
        #expect(yen.amountText == "500")
        #expect(yen.currency == "JPY")
        #expect(reason(delivery(.mintfax, ProviderFixtures.mintfaxBalance(available: "45.5")))?.code == .invalidField)
    }

    @Test func mintfaxBodyIDMustEqualTheDeliveryID() {
        #expect(reason(delivery(.mintfax, ProviderFixtures.mintfaxFax(), id: "evt_other"))?.code == .idMismatch)
    }

    @Test func mintfaxFaxAndLegacyEnvelope() throws {
        let fax = try EventNormalizer.normalize(delivery(.mintfax, ProviderFixtures.mintfaxFax(), id: "evt_fax0000000000000000001"))
        #expect(fax.entityKind == .fax)
        #expect(fax.entityID == "fax_01")
        #expect(fax.amount == nil)
        let legacy = try EventNormalizer.normalize(delivery(.mintfax, ProviderFixtures.mintfaxLegacy, id: nil))
        #expect(legacy.eventType == "fax.delivered")
        #expect(legacy.entityID == "fax_02")
        #expect(legacy.dedupeKey == "evt_01HZZLEGACY")
        #expect(legacy.asOf == iso("2026-05-22T14:01:00Z"))
    }

    @Test(arguments: [
        ("not json", QuarantineReason.Code.notJSON),
        ("[1,2]", .notObject),
        (#"{"event_type":"payment.teleported","payment":{"id":"p"}}"#, .unknownType),
        (#"{"payment":{"id":"p"}}"#, .missingField),
        (#"{"event_type":"payment.success","payment":{"amount":"1"}}"#, .missingField),
        (#"{"event_type":"payment.success","payment":{"id":"p","amount":"12abc"}}"#, .invalidField),
        (#"{"event_type":"payment.success","payment":{"id":"p","amount":true}}"#, .invalidField),
        (#"{"event_type":"payment.success","payment":{"id":"p","currency":"dollars"}}"#, .invalidField),
        (#"{"event_type":"payment.success","payment":{"id":"p","updated_at":"yesterday"}}"#, .invalidField),
        (#"{"event_type":"payment.success","payment":{"id":"p\u0000"}}"#, .invalidField),
        (#"{"event_type":"payment.success","payment":"p"}"#, .missingField),
    ])
    func flexpriceBadBodiesAreQuarantinedWithAReason(body: String, code: QuarantineReason.Code) {
        #expect(reason(delivery(.flexprice, body, id: "msg_x"))?.code == code)
    }

    @Test func mintcashMissingFields() {
        #expect(
            reason(delivery(.mintcash, #"{"event":"payment.succeeded","createdAt":"2026-05-22T14:32:08Z","data":{"id":"p"}}"#))?.code == .missingField
        )
        #expect(
            reason(delivery(.mintcash, #"{"eventId":"e","event":"payment.succeeded","createdAt":"2026-05-22T14:32:08Z"}"#))?.message
                == "data is missing")
        #expect(
            reason(delivery(.mintcash, #"{"eventId":"e","event":"payment.exploded","createdAt":"2026-05-22T14:32:08Z","data":{}}"#))?.code
                == .unknownType)
    }

    @Test(arguments: [
        ("0.1", "0.10"), ("49.99", "49.99"), ("1e-2", "0.01"), ("123456789012345678", "123456789012345678.00"),
        ("123456789012345678.1234567890", "123456789012345678.123456789"), ("0", "0.00"), ("-0", "0.00"), ("0.001", "0.001"),
        ("1.000000000001", "1.000000000001"), ("12E+16", "120000000000000000.00"),
    ])
    func mintcashAmountsStayExact(token: String, expected: String) throws {
        let event = try EventNormalizer.normalize(delivery(.mintcash, ProviderFixtures.mintcashPayment(amount: token)))
        #expect(event.amountText == expected)
    }

    @Test(arguments: [
        ("1e400", QuarantineReason.Code.amountOutOfRange), ("1234567890123456789", .amountOutOfRange),
        ("0.0000000000001", .amountOutOfRange), ("1e-13", .amountOutOfRange), ("-5.5", .negativeAmount),
    ])
    func amountsOutsideTheBoundsOrSignedWhereTheTypeHasTheDirectionAreQuarantined(token: String, code: QuarantineReason.Code) {
        #expect(reason(delivery(.mintcash, ProviderFixtures.mintcashPayment(amount: token)))?.code == code)
    }

    @Test func negativeBalancesAreStored() throws {
        let event = try EventNormalizer.normalize(delivery(.mintfax, ProviderFixtures.mintfaxBalance(available: "-250")))
        #expect(event.amountText == "-2.50")
    }
}

@Suite struct EventTimestampTests {
    @Test(arguments: [
        ("2026-05-22T14:32:08.412Z", Int64(1_779_460_328_412_000)),
        ("2026-05-22T14:32:08Z", 1_779_460_328_000_000),
        ("2026-05-22T14:32:08.123456789Z", 1_779_460_328_123_456),
        ("2026-05-22T16:32:08+02:00", 1_779_460_328_000_000),
        ("2026-05-22T14:32:08", 1_779_460_328_000_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000),
        ("1970-01-01T00:00:00Z", 0),
    ])
    func parsesISO8601(text: String, micros: Int64) {
        #expect(EventTimestamp.microseconds(iso8601: text) == micros)
    }

    @Test(arguments: ["2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-05-22", "2026-05-22T25:00:00Z", "2026-05-22T14:32:08.Z", "yesterday", ""])
    func refusesNonsense(text: String) {
        #expect(EventTimestamp.microseconds(iso8601: text) == nil)
    }

    @Test func unixSeconds() {
        #expect(EventTimestamp.microseconds(unixSeconds: "1747922400") == 1_747_922_400_000_000)
        #expect(EventTimestamp.microseconds(unixSeconds: "1747922400.5") == 1_747_922_400_500_000)
        #expect(EventTimestamp.microseconds(unixSeconds: "-1") == nil)
        #expect(EventTimestamp.microseconds(unixSeconds: "1e30") == nil)
    }
}
