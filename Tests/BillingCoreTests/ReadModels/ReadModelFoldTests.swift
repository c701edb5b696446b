import BillingCore
import Foundation
import TestSupport
import Testing

@Suite struct ReadModelFoldTests {
    private func fold(
        _ provider: Provider, _ body: String, environment: ProviderEnvironment = .live, deliveryID: String? = nil
    ) throws -> [ReadModelWrite] {
        let delivery = IncomingDelivery(
            provider: provider, environment: environment, environmentIsExplicit: false, body: Array(body.utf8), deliveryID: deliveryID)
        let event = try EventNormalizer.normalize(delivery)
        return try ReadModelFold.writes(for: event, body: delivery.body)
    }

    private func write(_ writes: [ReadModelWrite], _ register: ReadModelRegister) throws -> ReadModelWrite {
        try #require(writes.first { $0.register == register }, "no \(register.table).\(register.name) write")
    }

    @Test func aMintCashPaymentSetsDetailsStatusAndItsCustomerButNeverTheWholeCard() throws {
        let writes = try fold(.mintcash, ProviderFixtures.mintcashPayment())
        let details = try write(writes, .paymentDetails)
        #expect(details.providerID == "pmt_01HXX")
        #expect(details.values["amount"] == .text("49.99"))
        #expect(details.values["currency"] == .text("USD"))
        #expect(details.values["card_brand"] == .text("mastercard"))
        #expect(details.values["card_last4"] == .text("0000"))
        #expect(!details.values.values.contains { if case let .text(text) = $0 { text.contains("555555") } else { false } })
        let customerID = ReadModelTable.customers.id(provider: .mintcash, environment: .live, providerID: "cust_01HXX")
        #expect(details.values["customer_id"] == .id(customerID))
        let status = try write(writes, .paymentStatus)
        #expect(status.values["provider_status"] == .text("succeeded"))
        #expect(status.values["provider_amount_refundable"] == .text("49.99"))
        #expect(status.version == details.version)
        let customer = try write(writes, .customer)
        #expect(customer.values["email"] == .text("buyer@example.com"))
        #expect(customer.values["phone"] == nil)
    }

    @Test func aMintCashRefundEventMovesOnlyThePaymentStatusAndRecordsTheRefund() throws {
        let writes = try fold(.mintcash, ProviderFixtures.mintcashRefund)
        #expect(!writes.contains { $0.register == .paymentDetails })
        let status = try write(writes, .paymentStatus)
        #expect(status.providerID == "pmt_01HXX")
        #expect(status.values["provider_status"] == .text("refunded"))
        #expect(status.values["provider_amount_refunded"] == .text("49.99"))
        let refund = try write(writes, .refund)
        #expect(refund.providerID == "rfd_01HXX")
        #expect(refund.values["status"] == .text("succeeded"))
        #expect(refund.values["payment_provider_id"] == .text("pmt_01HXX"))
        #expect(writes.contains { $0.table == .payments && $0.register == nil })
    }

    @Test func aFlexpriceSubscriptionAlsoSnapshotsItsEmbeddedCustomer() throws {
        let writes = try fold(.flexprice, ProviderFixtures.flexpriceSubscription, deliveryID: "msg_2Y8dK1m1XBeRkB4kPoOQmF9wJ0A")
        let subscription = try write(writes, .subscription)
        #expect(subscription.values["status"] == .text("active"))
        #expect(subscription.values["billing_period_count"] == .text("1"))
        #expect(subscription.values["cancel_at_period_end"] == .text("false"))
        #expect(subscription.values["current_period_end"] == .time(1_788_220_800_000_000))
        let customer = try write(writes, .customer)
        #expect(customer.providerID == "cust_03")
        #expect(customer.values["name"] == .text("Grace"))
    }

    @Test func walletAlertsAndFullTransactionsFeedTheirRegisters() throws {
        let alert = try fold(.flexprice, ProviderFixtures.flexpriceWalletAlert, deliveryID: "msg_2Y8dK1m1XBeRkB4kPoOQmF9wJ0A")
        #expect(try write(alert, .creditBalanceAlert).values["credit_balance_alert_state"] == .text("ok"))
        #expect(try write(alert, .wallet).values["balance"] == .text("12.5"))
        #expect(try write(alert, .wallet).values["currency"] == .text("EUR"))

        let transaction = try fold(.flexprice, ProviderFixtures.flexpriceWalletTransactionFull, deliveryID: "msg_2Y8dK1m1XBeRkB4kPoOQmF9wJ0B")
        let row = try write(transaction, .walletTransaction)
        #expect(row.values["credit_balance_after"] == .text("100"))
        #expect(row.values["reason"] == .text("PURCHASED_CREDIT_DIRECT"))
        #expect(row.version.asOf == EventTimestamp.microseconds(iso8601: "2026-08-01T10:00:01.5Z"))
        #expect(try write(transaction, .wallet).providerID == "wallet_01")
        #expect(try write(transaction, .customer).values["external_id"] == .text("ext-1"))
    }

    @Test func aMintfaxBalanceIsAWalletOfItsEnvironmentInMajorUnits() throws {
        let writes = try fold(.mintfax, ProviderFixtures.mintfaxBalance(type: "balance.low"))
        let wallet = try write(writes, .wallet)
        #expect(wallet.providerID == "env_01")
        #expect(wallet.values["balance"] == .text("45.5"))
        #expect(wallet.values["held"] == .text("1.25"))
        #expect(wallet.values["customer_id"] == nil)
        #expect(try write(writes, .creditBalanceAlert).values["credit_balance_alert_state"] == .text("in_alarm"))
        #expect(try fold(.mintfax, ProviderFixtures.mintfaxFax()).isEmpty)
    }

    @Test func anUnusableFieldMakesThePoisonErrorNameIt() throws {
        let body = ProviderFixtures.flexpriceWalletTransactionFull.replacingOccurrences(
            of: #""credit_balance_before":"0""#, with: #""credit_balance_before":"zero""#)
        #expect(throws: ReadModelFoldError("transaction.credit_balance_before is not a decimal amount")) {
            try fold(.flexprice, body, deliveryID: "msg_2Y8dK1m1XBeRkB4kPoOQmF9wJ0C")
        }
    }

    @Test func versionsOrderByAsOfThenRankThenEventIDLikePostgres() {
        let low = UUID(uuidString: "0A000000-0000-8000-8000-000000000000")!
        let high = UUID(uuidString: "F0000000-0000-8000-8000-000000000000")!
        #expect(ReadModelVersion(asOf: 1, rank: 9, eventID: high) < ReadModelVersion(asOf: 2, rank: 0, eventID: low))
        #expect(ReadModelVersion(asOf: 1, rank: 0, eventID: high) < ReadModelVersion(asOf: 1, rank: 1, eventID: low))
        #expect(ReadModelVersion(asOf: 1, rank: 1, eventID: low) < ReadModelVersion(asOf: 1, rank: 1, eventID: high))
    }

    @Test func stableIDsDependOnTableProviderEnvironmentAndID() {
        let live = ReadModelTable.payments.id(provider: .mintcash, environment: .live, providerID: "p1")
        #expect(live == ReadModelTable.payments.id(provider: .mintcash, environment: .live, providerID: "p1"))
        #expect(live != ReadModelTable.payments.id(provider: .mintcash, environment: .test, providerID: "p1"))
        #expect(live != ReadModelTable.refunds.id(provider: .mintcash, environment: .live, providerID: "p1"))
    }
}
