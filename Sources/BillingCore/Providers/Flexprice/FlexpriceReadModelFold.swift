/// Flexprice payloads into read models. Every object is a snapshot of the entity at delivery time
/// (no deltas), so each one replaces its register when it is fresher: "as of" is the object's
/// `updated_at` (full payloads) or the event's "as of" (the Svix message time).
enum FlexpriceReadModelFold {
    static func fold(_ root: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) {
        let type = folding.event.eventType
        switch folding.event.entityKind {
        case .subscription:
            if let subscription = root.object("subscription") {
                try self.subscription(subscription, into: &folding)
                if let customer = subscription.object("customer") { try self.customer(customer, deleted: false, into: &folding) }
            } else if let id = folding.event.entityID {
                folding.touch(.subscriptions, id)
            }
        case .wallet:
            if let wallet = root.object("wallet") {
                let id = try self.wallet(wallet, into: &folding)
                try alert(root.object("alert"), walletID: id, into: &folding)
            } else if let id = folding.event.entityID {
                folding.touch(.wallets, id)
            }
        case .walletTransaction:
            let keys = type == "wallet.transaction.updated" ? ["updated_transaction", "transaction"] : ["transaction", "updated_transaction"]
            if let transaction = keys.lazy.compactMap({ root.object($0) }).first {
                try self.transaction(transaction, into: &folding)
            }
            if let wallet = root.object("wallet") { _ = try self.wallet(wallet, into: &folding) }
        case .payment:
            if let payment = root.object("payment") { try self.payment(payment, into: &folding) }
        case .refund:
            if let refund = root.object("refund") { try self.refund(refund, into: &folding) }
        default:
            break
        }
        if let customer = root.object("customer") {
            try self.customer(customer, deleted: type == "customer.deleted", into: &folding)
        }
    }

    /// The entity's own `updated_at` when the payload has one (full objects).
    private static func asOf(_ object: FoldObject, _ folding: Folding) throws(ReadModelFoldError) -> Int64 {
        try object.time("updated_at") ?? folding.asOf
    }

    static func customer(_ customer: FoldObject, deleted: Bool, into folding: inout Folding) throws(ReadModelFoldError) {
        let id = try customer.id("id")
        let isDeleted = deleted || customer.value["status"]?.stringValue == "deleted"
        var values = FoldValues()
        values.set("external_id", try customer.text("external_id"))
        values.set("name", try customer.text("name"))
        values.set("email", try customer.text("email"))
        values.set("phone", try customer.text("phone"))
        values.set("timezone", try customer.text("timezone"))
        values.set(
            "address",
            try customer.object(fields: [
                ("address_line1", "line1"), ("address_line2", "line2"), ("address_city", "city"), ("address_state", "state"),
                ("address_postal_code", "postal_code"), ("address_country", "country"),
            ]))
        values.set("metadata", try customer.json("metadata"))
        values.set("deleted", isDeleted)
        values.set("provider_created_at", time: try customer.time("created_at"))
        folding.set(.customer, id, rank: isDeleted ? 1 : 0, asOf: try asOf(customer, folding), values)
    }

    static func subscription(_ subscription: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) {
        let id = try subscription.id("id")
        let embeddedCustomerID = try subscription.object("customer")?.text("id")
        let customerID = try subscription.text("customer_id") ?? embeddedCustomerID
        let providerStatus = try subscription.text("subscription_status")
        let (status, rank) = ReadModelStatus.subscription(providerStatus)
        var values = FoldValues()
        values.set("customer_provider_id", customerID)
        values.set("customer_id", folding.id(.customers, customerID))
        values.set("status", status)
        values.set("provider_status", providerStatus)
        let planID = try subscription.object("plan")?.text("id")
        values.set("plan_id", try subscription.text("plan_id") ?? planID)
        values.set("lookup_key", try subscription.text("lookup_key"))
        values.set("currency", try subscription.text("currency").flatMap(Currency.normalize))
        values.set("billing_period", try subscription.text("billing_period"))
        values.set("billing_period_count", try subscription.integer("billing_period_count"))
        values.set("billing_cadence", try subscription.text("billing_cadence"))
        for field in [
            "start_date", "end_date", "current_period_start", "current_period_end", "cancel_at", "cancelled_at",
            "trial_start", "trial_end",
        ] {
            values.set(field, time: try subscription.time(field))
        }
        values.set("cancel_at_period_end", try subscription.bool("cancel_at_period_end"))
        values.set("pause_status", try subscription.text("pause_status"))
        values.set("metadata", try subscription.json("metadata"))
        values.set("provider_created_at", time: try subscription.time("created_at"))
        folding.set(.subscription, id, rank: rank, asOf: try asOf(subscription, folding), values)
    }

    @discardableResult
    static func wallet(_ wallet: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) -> String {
        let id = try wallet.id("id")
        let customerID = try wallet.text("customer_id")
        let providerStatus = try wallet.text("wallet_status")
        let (status, rank) = ReadModelStatus.wallet(providerStatus ?? (folding.event.eventType == "wallet.terminated" ? "closed" : nil))
        var values = FoldValues()
        values.set("customer_provider_id", customerID)
        values.set("customer_id", folding.id(.customers, customerID))
        values.set("name", try wallet.text("name"))
        values.set("status", status)
        values.set("provider_status", providerStatus)
        values.set("wallet_type", try wallet.text("wallet_type"))
        values.set("currency", try wallet.text("currency").flatMap(Currency.normalize))
        values.set("balance", try wallet.amount("balance"))
        values.set("credit_balance", try wallet.amount("credit_balance"))
        values.set("conversion_rate", try wallet.amount("conversion_rate"))
        values.set("metadata", try wallet.json("metadata"))
        values.set("provider_created_at", time: try wallet.time("created_at"))
        folding.set(.wallet, id, rank: rank, asOf: try asOf(wallet, folding), values)
        return id
    }

    /// `wallet.credit_balance.*` and `wallet.ongoing_balance.*` carry the alert's state; without an
    /// `alert` object, `dropped` means in alarm and `recovered` means ok.
    static func alert(_ alert: FoldObject?, walletID: String, into folding: inout Folding) throws(ReadModelFoldError) {
        let type = folding.event.eventType
        let register: ReadModelRegister
        if type.hasPrefix("wallet.credit_balance.") {
            register = .creditBalanceAlert
        } else if type.hasPrefix("wallet.ongoing_balance.") {
            register = .ongoingBalanceAlert
        } else {
            return
        }
        let implied = type.hasSuffix(".dropped") ? "in_alarm" : type.hasSuffix(".recovered") ? "ok" : nil
        guard let state = try alert?.text("state")?.lowercased() ?? implied else { return }
        var values = FoldValues()
        values.set(register.columns[0].name, state)
        folding.set(register, walletID, rank: ReadModelStatus.alertRank(state), values)
    }

    static func transaction(_ transaction: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) {
        let id = try transaction.id("id")
        let walletID = try transaction.text("wallet_id")
        let customerID = try transaction.text("customer_id")
        let providerStatus = try transaction.text("transaction_status")
        let (status, rank) = ReadModelStatus.walletTransaction(providerStatus)
        var values = FoldValues()
        values.set("wallet_provider_id", walletID)
        values.set("wallet_id", folding.id(.wallets, walletID))
        values.set("customer_provider_id", customerID)
        values.set("customer_id", folding.id(.customers, customerID))
        values.set("transaction_type", try transaction.text("type")?.lowercased())
        values.set("status", status)
        values.set("provider_status", providerStatus)
        for field in ["amount", "credit_amount", "credit_balance_before", "credit_balance_after"] {
            values.set(field, try transaction.amount(field))
        }
        values.set("currency", try transaction.text("currency").flatMap(Currency.normalize))
        values.set("reason", try transaction.text("transaction_reason"))
        values.set("reference_type", try transaction.text("reference_type"))
        values.set("reference_id", try transaction.text("reference_id"))
        values.set("description", try transaction.text("description"))
        values.set("expiry_date", time: try transaction.time("expiry_date"))
        values.set("metadata", try transaction.json("metadata"))
        values.set("provider_created_at", time: try transaction.time("created_at"))
        folding.set(.walletTransaction, id, rank: rank, asOf: try asOf(transaction, folding), values)
        if let walletID { folding.touch(.wallets, walletID) }
    }

    static func payment(_ payment: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) {
        let id = try payment.id("id")
        let destinationType = try payment.text("destination_type")
        let destinationID = try payment.text("destination_id")
        let customerID = destinationType?.uppercased() == "CUSTOMER" ? destinationID : try payment.text("customer_id")
        let providerStatus = try payment.text("payment_status")
        let rank = ReadModelStatus.paymentRank(providerStatus)
        let asOf = try asOf(payment, folding)
        var details = FoldValues()
        details.set("customer_provider_id", customerID)
        details.set("customer_id", folding.id(.customers, customerID))
        details.set("amount", try payment.amount("amount"))
        details.set("currency", try payment.text("currency").flatMap(Currency.normalize))
        details.set("failure_message", try payment.text("error_message"))
        details.set("payment_method_type", try payment.text("payment_method_type"))
        details.set("payment_gateway", try payment.text("payment_gateway"))
        details.set("provider_transaction_id", try payment.text("gateway_payment_id"))
        details.set("destination_type", destinationType)
        details.set("destination_id", destinationID)
        details.set("invoice_number", try payment.text("invoice_number"))
        for field in ["succeeded_at", "failed_at", "refunded_at", "voided_at"] {
            details.set(field, time: try payment.time(field))
        }
        details.set("provider_created_at", time: try payment.time("created_at"))
        folding.set(.paymentDetails, id, rank: rank, asOf: asOf, details)
        var status = FoldValues()
        status.set("provider_status", providerStatus)
        status.set("provider_amount_refunded", try payment.amount("refunded_amount"))
        folding.set(.paymentStatus, id, rank: rank, asOf: asOf, status)
    }

    static func refund(_ refund: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) {
        let id = try refund.id("id")
        let paymentID = try refund.text("payment_id")
        let providerStatus = try refund.text("refund_status")
        let (status, rank) = ReadModelStatus.refund(providerStatus)
        var values = FoldValues()
        values.set("payment_provider_id", paymentID)
        values.set("payment_id", folding.id(.payments, paymentID))
        values.set("status", status)
        values.set("provider_status", providerStatus)
        values.set("amount", try refund.amount("amount"))
        values.set("currency", try refund.text("currency").flatMap(Currency.normalize))
        values.set("reason", try refund.text("refund_reason"))
        values.set("failure_reason", try refund.text("failure_reason"))
        values.set("provider_created_at", time: try refund.time("created_at"))
        folding.set(.refund, id, rank: rank, asOf: try asOf(refund, folding), values)
        if let paymentID { folding.touch(.payments, paymentID) }
    }
}
