/// MintCash payloads into read models. Payment and subscription events carry the whole entity in
/// `data` (with its customer); refund events (`payment.partially_refunded`, `payment.refunded`,
/// `payment.refund_failed`) carry only the payment's status and refund amounts beside
/// `data.refund`, so they set the payment's status register and the refund, never its details.
/// "As of" is `data.updatedAt`, else the envelope `createdAt`; ties break on the status precedence.
enum MintCashReadModelFold {
    static func fold(_ root: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) {
        guard let data = root.object("data") else { throw ReadModelFoldError("data is missing") }
        let isRefundEvent = MintCashNormalizer.catalog[folding.event.eventType] == .refund
        switch folding.event.entityKind {
        case .payment, .refund:
            let paymentID = try data.id("id")
            if isRefundEvent {
                try status(data, paymentID: paymentID, into: &folding)
                if let refund = data.object("refund") { try self.refund(refund, paymentID: paymentID, into: &folding) }
                folding.touch(.payments, paymentID)
            } else {
                try payment(data, id: paymentID, into: &folding)
            }
        case .subscription:
            try subscription(data, into: &folding)
        default:
            break
        }
        if let customer = data.object("customer"), try customer.text("id") != nil {
            try self.customer(customer, into: &folding)
        }
    }

    static func customer(_ customer: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) {
        var values = FoldValues()
        values.set("external_id", try customer.text("externalId"))
        values.set("name", try customer.text("name"))
        values.set("email", try customer.text("email"))
        values.set("phone", try customer.text("phone"))
        values.set("deleted", false)
        folding.set(.customer, try customer.id("id"), rank: 0, values)
    }

    static func payment(_ data: FoldObject, id: String, into folding: inout Folding) throws(ReadModelFoldError) {
        let providerStatus = try data.text("status")
        let rank = ReadModelStatus.paymentRank(providerStatus)
        let customerID = try data.object("customer")?.text("id")
        var details = FoldValues()
        details.set("external_id", try data.text("externalId"))
        details.set("customer_provider_id", customerID)
        details.set("customer_id", folding.id(.customers, customerID))
        details.set("amount", try data.amount("amount"))
        details.set("currency", try data.text("currency").flatMap(Currency.normalize))
        details.set("failure_code", try data.text("failureCode"))
        details.set("failure_message", try data.text("failureMessage"))
        details.set("provider_transaction_id", try data.text("providerTransactionId"))
        // Only brand and last four digits: the card's other fields never enter the read models.
        if let card = data.object("card") {
            details.set("card_brand", try card.text("brand"))
            details.set("card_last4", try card.text("last4"))
        }
        details.set("payment_method_type", data.object("card") != nil ? "card" : nil)
        details.set(
            "billing_address",
            try data.object("billingAddress")?.object(fields: [
                ("name", "name"), ("line1", "line1"), ("line2", "line2"), ("city", "city"), ("state", "state"),
                ("postalCode", "postal_code"), ("country", "country"),
            ]))
        details.set("provider_created_at", time: try data.time("createdAt"))
        folding.set(.paymentDetails, id, rank: rank, details)
        try status(data, paymentID: id, into: &folding)
    }

    static func status(_ data: FoldObject, paymentID: String, into folding: inout Folding) throws(ReadModelFoldError) {
        let providerStatus = try data.text("status")
        var values = FoldValues()
        values.set("provider_status", providerStatus)
        values.set("provider_amount_refunded", try data.amount("amountRefunded"))
        values.set("provider_amount_refundable", try data.amount("amountRefundable"))
        folding.set(.paymentStatus, paymentID, rank: ReadModelStatus.paymentRank(providerStatus), values)
    }

    static func refund(_ refund: FoldObject, paymentID: String, into folding: inout Folding) throws(ReadModelFoldError) {
        let providerStatus = try refund.text("status")
        let (status, rank) = ReadModelStatus.refund(providerStatus)
        var values = FoldValues()
        values.set("external_id", try refund.text("externalId"))
        values.set("payment_provider_id", paymentID)
        values.set("payment_id", folding.id(.payments, paymentID))
        values.set("status", status)
        values.set("provider_status", providerStatus)
        values.set("amount", try refund.amount("amount"))
        values.set("currency", try refund.text("currency").flatMap(Currency.normalize))
        values.set("reason", try refund.text("reason"))
        values.set("provider_created_at", time: try refund.time("createdAt"))
        folding.set(.refund, try refund.id("id"), rank: rank, values)
    }

    static func subscription(_ data: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) {
        let providerStatus = try data.text("status")
        let (status, rank) = ReadModelStatus.subscription(providerStatus)
        let customerID = try data.object("customer")?.text("id")
        var values = FoldValues()
        values.set("external_id", try data.text("externalId"))
        values.set("customer_provider_id", customerID)
        values.set("customer_id", folding.id(.customers, customerID))
        values.set("status", status)
        values.set("provider_status", providerStatus)
        values.set("amount", try data.amount("amount"))
        values.set("currency", try data.text("currency").flatMap(Currency.normalize))
        values.set("billing_interval_days", try data.integer("billingIntervalDays"))
        values.set("current_period_end", time: try data.time("currentPeriodEnd"))
        if let payment = data.object("lastPayment") {
            values.set("last_payment_id", try payment.text("id"))
            values.set("last_payment_status", try payment.text("status"))
            values.set("last_payment_amount", try payment.amount("amount"))
        }
        values.set("provider_created_at", time: try data.time("createdAt"))
        folding.set(.subscription, try data.id("id"), rank: rank, values)
    }
}
