import Foundation

/// MintCash bodies: `{eventId, event, type, apiVersion, environment, createdAt, data}`.
///
/// - Dedupe key: `eventId`. Environment: the body's `environment`; a route that names another
///   one is a mismatch (quarantined).
/// - Refund events arrive as `payment.partially_refunded` / `payment.refunded` /
///   `payment.refund_failed` with the refund in `data.refund`: they are about that refund (amount
///   and currency from it) and the payment's id stays in the raw body.
/// - "As of": `data.updatedAt` when present (real deliveries often omit it), else `createdAt`.
/// - Amounts are JSON numbers in major units; currencies are upper-case already.
enum MintCashNormalizer {
    static func normalize(_ root: JSONValue, delivery: IncomingDelivery) throws(QuarantineReason) -> NormalizedEvent {
        let eventID = try PayloadField.requiredString(root["eventId"], "eventId")
        let eventType = try PayloadField.requiredString(root["event"], "event")
        guard let kind = catalog[eventType] else {
            throw QuarantineReason(.unknownType, "event \"\(eventType)\" is not a known MintCash event")
        }
        let environment = try PayloadField.environment(root["environment"], "environment", delivery: delivery)
        guard let createdAt = try PayloadField.timestamp(root["createdAt"], "createdAt") else {
            throw QuarantineReason(.missingField, "createdAt is missing")
        }
        let data = try PayloadField.requiredObject(root["data"], "data")
        let customerID = try PayloadField.string(data["customer", "id"], "data.customer.id")
        let updatedAt = try PayloadField.timestamp(data["updatedAt"], "data.updatedAt")

        let entityKind: EntityKind
        let entityID: String
        let amount: DecimalAmount?
        let currency: String?
        if kind == .refund, data["refund"].map({ !$0.isNull }) ?? false {
            let refund = try PayloadField.requiredObject(data["refund"], "data.refund")
            entityKind = .refund
            entityID = try PayloadField.requiredString(refund["id"], "data.refund.id")
            amount = try PayloadField.amount(refund["amount"], "data.refund.amount")
            currency = try PayloadField.currency(refund["currency"], "data.refund.currency")
        } else {
            entityKind = kind == .refund ? .payment : kind
            entityID = try PayloadField.requiredString(data["id"], "data.id")
            amount = try PayloadField.amount(data["amount"], "data.amount")
            currency = try PayloadField.currency(data["currency"], "data.currency")
        }
        return NormalizedEvent(
            provider: .mintcash, environment: environment, eventType: eventType, entityKind: entityKind,
            entityID: entityID, customerID: customerID, occurredAt: createdAt, asOf: updatedAt ?? createdAt,
            amount: amount, currency: currency, dedupeKey: eventID, providerEventID: eventID)
    }

    /// The documented events; `subscription.payment_*` appear on one docs page and are accepted as
    /// aliases. `.refund` marks the refund-carrying payment events.
    static let catalog: [String: EntityKind] = [
        "payment.created": .payment, "payment.pending": .payment, "payment.authorized": .payment,
        "payment.succeeded": .payment, "payment.failed": .payment, "payment.voided": .payment,
        "payment.partially_refunded": .refund, "payment.refunded": .refund, "payment.refund_failed": .refund,
        "refund.created": .refund, "refund.succeeded": .refund, "refund.failed": .refund,
        "subscription.succeeded": .subscription, "subscription.failed": .subscription,
        "subscription.cancelled": .subscription, "subscription.payment_failed": .subscription,
        "subscription.payment_succeeded": .subscription,
    ]
}
