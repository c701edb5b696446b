/// Sample bodies shaped like each provider's documented and observed payloads (what each provider
/// sends: README "Webhooks", `docs/projections.md` "Rules per provider"), with ids and amounts as
/// parameters.
public enum ProviderFixtures {
    /// Flexprice ≥ v2.1.24 minimal payment payload (decimal string, lower-case currency).
    public static func flexpricePayment(id: String = "pay_01J0", type: String = "payment.success", amount: String = "49.99") -> String {
        #"{"event_type":"\#(type)","payment":{"id":"\#(id)","destination_type":"CUSTOMER","destination_id":"cust_01J0","payment_method_type":"CARD","amount":"\#(amount)","currency":"usd","payment_status":"SUCCEEDED","succeeded_at":"2026-08-18T09:30:12.418204Z"}}"#
    }

    /// Flexprice ≤ v2.1.23 `wallet.transaction.created` (full objects with `updated_at`).
    public static let flexpriceWalletTransactionFull = #"""
        {"event_type":"wallet.transaction.created","transaction":{"id":"wtxn_01","wallet_id":"wallet_01","customer_id":"cust_01","type":"credit","amount":"100","credit_amount":"100","credit_balance_before":"0","credit_balance_after":"100","currency":"usd","transaction_status":"completed","transaction_reason":"PURCHASED_CREDIT_DIRECT","created_at":"2026-08-01T10:00:00Z","updated_at":"2026-08-01T10:00:01.5Z","tenant_id":"tenant_01","environment_id":"env_01"},"wallet":{"id":"wallet_01","customer_id":"cust_01","balance":"100","credit_balance":"100","currency":"usd","wallet_status":"active"},"customer":{"id":"cust_01","external_id":"ext-1","name":"Ada"}}
        """#

    /// Flexprice `wallet.credit_balance.recovered` as delivered (alert with numbers, customer, wallet).
    public static let flexpriceWalletAlert = #"""
        {"alert":{"alert_type":"low_credit_balance","credit_balance":123,"current_balance":123,"state":"ok"},"customer":{"id":"cust_02","external_id":"ext-2","updated_at":"2023-11-07T05:31:56Z"},"event_type":"wallet.credit_balance.recovered","wallet":{"id":"wallet_02","customer_id":"cust_02","balance":"12.5","credit_balance":"12.5","conversion_rate":"1","currency":"eur","updated_at":"2023-11-07T05:31:56Z","wallet_status":"active","wallet_type":"PRE_PAID"}}
        """#

    /// Flexprice minimal subscription with an embedded customer.
    public static let flexpriceSubscription = #"""
        {"event_type":"subscription.activated","subscription":{"id":"subs_01","customer_id":"cust_03","plan_id":"plan_01","subscription_status":"active","currency":"usd","start_date":"2026-08-01T00:00:00Z","current_period_start":"2026-08-01T00:00:00Z","current_period_end":"2026-09-01T00:00:00Z","cancel_at_period_end":false,"billing_cadence":"RECURRING","billing_period":"MONTHLY","billing_period_count":1,"customer":{"id":"cust_03","external_id":"ext-3","name":"Grace"}}}
        """#

    /// Flexprice `refund.succeeded` (Python SDK 2.1.43 shape).
    public static let flexpriceRefund = #"""
        {"event_type":"refund.succeeded","refund":{"id":"rfnd_01","payment_id":"pay_01J0","invoice_id":"inv_01","amount":"10.5","settled_amount":"10.5","currency":"usd","refund_status":"SUCCEEDED","attempt":1}}
        """#

    /// MintCash payment event as delivered, with amount as a JSON number token.
    public static func mintcashPayment(
        eventID: String = "0b9f4d8e-3c1a-4f43-9e55-6c1f1d2a7b10", event: String = "payment.succeeded", amount: String = "49.99",
        currency: String = "USD", environment: String = "live", updatedAt: String? = "2026-05-22T14:32:08.412Z"
    ) -> String {
        let updated = updatedAt.map { #","updatedAt":"\#($0)""# } ?? ""
        return
            #"{"eventId":"\#(eventID)","event":"\#(event)","type":"payment","apiVersion":"2026-05-01","environment":"\#(environment)","createdAt":"2026-05-22T14:32:08.412Z","data":{"id":"pmt_01HXX","externalId":"order_123","status":"succeeded","amount":\#(amount),"currency":"\#(currency)","providerTransactionId":"provider_txn_abc","failureCode":null,"failureMessage":null,"amountRefunded":0,"amountRefundable":\#(amount),"customer":{"id":"cust_01HXX","externalId":"cust_42","email":"buyer@example.com","name":"Jane Doe","phone":null},"billingAddress":null,"card":{"brand":"mastercard","last4":"0000","expMonth":"03","expYear":"31","first6":"555555"}\#(updated)}}"#
    }

    /// MintCash refund event delivered with `type: "payment"`.
    public static let mintcashRefund = #"""
        {"eventId":"7d1f0c2a-8a61-4a0e-9d7e-2b4b1f3e9a01","event":"payment.refunded","type":"payment","apiVersion":"2026-05-01","environment":"live","createdAt":"2026-05-22T16:10:11.000Z","data":{"id":"pmt_01HXX","externalId":"order_123","status":"refunded","amountRefunded":49.99,"amountRefundable":0,"refund":{"id":"rfd_01HXX","externalId":"refund_order_123_full","amount":49.99,"currency":"USD","reason":"customer_request","status":"succeeded","createdAt":"2026-05-22T16:09:45.000Z"}}}
        """#

    /// MintCash subscription event as delivered.
    public static let mintcashSubscription = #"""
        {"eventId":"a3c5e7f9-1b2d-4e6f-8a0b-c1d2e3f4a5b6","event":"subscription.succeeded","type":"subscription","apiVersion":"2026-05-01","environment":"test","createdAt":"2026-05-22T08:00:00.000Z","data":{"id":"sub_01HXX","externalId":"sub_cust42_plan_pro","status":"active","amount":19.99,"currency":"USD","billingIntervalDays":30,"currentPeriodEnd":"2026-06-21T08:00:00.000Z","customer":{"id":"cust_01HXX","externalId":"cust_42","email":"buyer@example.com","name":"Jane Doe"},"lastPayment":{"id":"pmt_01HXX","status":"succeeded","amount":19.99}}}
        """#

    /// mintfax `balance.topup` as delivered, with `available` in cents.
    public static func mintfaxBalance(
        id: String = "evt_8aZqRm4yT3vK7pNxJ2bH9c", type: String = "balance.topup", available: String = "4550", currency: String = "USD"
    ) -> String {
        #"{"id":"\#(id)","type":"\#(type)","created":1747922400,"data":{"object":{"environment_id":"env_01","available":\#(available),"held":125,"currency":"\#(currency)"}}}"#
    }

    /// mintfax `fax.delivered` with the fax resource.
    public static func mintfaxFax(id: String = "evt_fax0000000000000000001", type: String = "fax.delivered") -> String {
        #"{"id":"\#(id)","type":"\#(type)","created":1747922460,"data":{"object":{"id":"fax_01","to":"+15551234567","pages":3,"attempts":[],"tags":{},"created_at":"2026-05-22T14:00:00Z","updated_at":"2026-05-22T14:01:00Z"}}}"#
    }

    /// mintfax legacy envelope `{event, event_id, timestamp, data}`.
    public static let mintfaxLegacy = #"""
        {"event":"fax.delivered","event_id":"evt_01HZZLEGACY","timestamp":"2026-05-22T14:01:00Z","data":{"id":"fax_02","pages":1}}
        """#
}
