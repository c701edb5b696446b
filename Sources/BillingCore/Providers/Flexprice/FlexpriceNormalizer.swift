import Foundation

/// Flexprice bodies: `{"event_type": "...", "<entity key>": {...}}`, in both payload
/// generations (full API objects up to v2.1.23, hand-picked minimal objects since v2.1.24).
///
/// - Dedupe key: the `svix-id` (or `webhook-id`) delivery id; an export line without one falls
///   back to the body's SHA-256. The log also takes an identical body of the same type whose
///   message time is under 24 hours from an earlier one's as the same event (Flexprice can re-send
///   one event under a new `svix-id`); further apart it is a genuine repeat of a state.
/// - "As of": the entity's `updated_at` (full objects) when present, else the creation time inside
///   the Svix message id, else the signed delivery timestamp, else the receipt time. Occurred-at is
///   the message creation time (else the delivery timestamp, the entity's `updated_at`, the
///   receipt time), since the body carries no event time.
/// - Amounts are decimal strings in major units; currencies arrive lower-case.
enum FlexpriceNormalizer {
    /// What a type is about, where its object sits, and whether the entity id is required.
    struct Route: Sendable {
        var kind: EntityKind
        var objectKeys: [String]
        var idRequired: Bool
    }

    static func normalize(_ root: JSONValue, delivery: IncomingDelivery) throws(QuarantineReason) -> NormalizedEvent {
        let eventType = try PayloadField.requiredString(root["event_type"], "event_type")
        guard let route = catalog[eventType] else {
            throw QuarantineReason(.unknownType, "event_type \"\(eventType)\" is not a known Flexprice event type")
        }
        let object = route.objectKeys.lazy.compactMap { root[$0] }.first { if case .object = $0 { true } else { false } }
        let entity = object ?? root
        var entityID: String?
        if let object { entityID = try PayloadField.string(object["id"], "\(route.objectKeys[0]).id") }
        if entityID == nil { entityID = try PayloadField.string(root[flatIDKey(route.kind)], flatIDKey(route.kind)) }
        if route.idRequired, entityID == nil {
            throw QuarantineReason(.missingField, "\(route.objectKeys.first.map { "\($0).id" } ?? flatIDKey(route.kind)) is missing")
        }
        let customerID = route.kind == .customer ? entityID : try customer(of: entity, root: root)
        var amount: DecimalAmount?
        if let field = amountField(route.kind) { amount = try PayloadField.amount(entity[field], field) }
        let currency = try PayloadField.currency(entity["currency"], "currency")
        let messageTime = delivery.deliveryID.flatMap(SvixMessageID.creationTime)
        let updatedAt = try PayloadField.timestamp(entity["updated_at"], "updated_at")
        // The provider's clock for the message: also what the redelivery window of identical bodies
        // is measured on, so an export line without a delivery time falls back to the entity's
        // own time before our receipt time.
        let sent = messageTime ?? delivery.deliveryTimestamp ?? updatedAt ?? delivery.receivedAt
        return NormalizedEvent(
            provider: .flexprice, environment: delivery.environment, eventType: eventType, entityKind: route.kind,
            entityID: entityID, customerID: customerID, occurredAt: sent, asOf: updatedAt ?? sent,
            amount: amount, currency: currency,
            dedupeKey: delivery.deliveryKey, providerEventID: nil)
    }

    /// The customer named by the object or the envelope (older payloads carry a `customer` object
    /// beside the entity; payments to a customer name it as their destination).
    private static func customer(of entity: JSONValue, root: JSONValue) throws(QuarantineReason) -> String? {
        if let id = try PayloadField.string(entity["customer_id"], "customer_id") { return id }
        if let id = try PayloadField.string(entity["customer", "id"], "customer.id") { return id }
        if let id = try PayloadField.string(root["customer", "id"], "customer.id") { return id }
        if let id = try PayloadField.string(root["wallet", "customer_id"], "wallet.customer_id") { return id }
        if entity["destination_type"]?.stringValue?.uppercased() == "CUSTOMER" {
            return try PayloadField.string(entity["destination_id"], "destination_id")
        }
        return nil
    }

    /// The flat id field used by payloads without an entity object (`wallet_id`…).
    private static func flatIDKey(_ kind: EntityKind) -> String {
        switch kind {
        case .walletTransaction: "transaction_id"
        case .other: "id"
        default: "\(kind.rawValue)_id"
        }
    }

    /// The field that holds the event's amount for each kind.
    private static func amountField(_ kind: EntityKind) -> String? {
        switch kind {
        case .wallet: "balance"
        case .walletTransaction, .payment, .refund: "amount"
        case .invoice: "total"
        case .creditNote: "total_amount"
        default: nil
        }
    }

    /// Every type in code at main, Python SDK 2.1.43, the newest docs and the older doc pages, and
    /// the `*.snapshot` types of imported entity rows.
    static let catalog: [String: Route] = {
        var routes: [String: Route] = [:]
        func add(_ types: [String], _ kind: EntityKind, _ keys: [String], idRequired: Bool = true) {
            for type in types { routes[type] = Route(kind: kind, objectKeys: keys, idRequired: idRequired) }
        }
        add(["customer.created", "customer.updated", "customer.deleted"], .customer, ["customer"])
        add(
            [
                "subscription.created", "subscription.draft.created", "subscription.activated", "subscription.updated",
                "subscription.paused", "subscription.cancelled", "subscription.resumed", "subscription.plan_changed",
                "subscription.renewal.due",
            ], .subscription, ["subscription"])
        add(
            [
                "subscription.spend.threshold_reached", "subscription.spend.threshold_recovered",
                "subscription.line_item_spend.threshold_reached", "subscription.line_item_spend.threshold_recovered",
                "subscription.group_spend.threshold_reached", "subscription.group_spend.threshold_recovered",
            ], .subscription, ["subscription"], idRequired: false)
        add(["subscription.phase.created", "subscription.phase.updated", "subscription.phase.deleted"], .other, ["phase"], idRequired: false)
        add(["feature.created", "feature.updated", "feature.deleted"], .other, ["feature"], idRequired: false)
        add(["feature.wallet_balance.alert"], .wallet, ["wallet"], idRequired: false)
        add(
            ["entitlement.created", "entitlement.updated", "entitlement.deleted", "entitlement.grant.exhausted"], .other, ["entitlement"],
            idRequired: false)
        add(
            [
                "wallet.created", "wallet.updated", "wallet.terminated", "wallet.credit_balance.dropped",
                "wallet.credit_balance.recovered", "wallet.ongoing_balance.dropped", "wallet.ongoing_balance.recovered",
                "wallet.ongoing_balance.updated",
            ], .wallet, ["wallet"])
        add(["wallet.transaction.created"], .walletTransaction, ["transaction", "updated_transaction"])
        add(["wallet.transaction.updated"], .walletTransaction, ["updated_transaction", "transaction"])
        add(
            ["payment.created", "payment.updated", "payment.failed", "payment.success", "payment.pending", "payment.attempt.failed"], .payment,
            ["payment"])
        add(
            [
                "invoice.update.finalized", "invoice.update.payment", "invoice.update.voided", "invoice.update",
                "invoice.payment.overdue", "invoice.communication.triggered", "invoice.sync.success", "invoice.sync.failed",
                "invoice.payment.failed", "invoice.create.drafted", "invoice.updated.payment",
            ], .invoice, ["invoice"])
        add(["credit_note.created", "credit_note.updated"], .creditNote, ["credit_note"])
        add(["refund.created", "refund.succeeded", "refund.failed"], .refund, ["refund"])
        add(
            ["checkout.session.initiated", "checkout.session.completed", "checkout.session.failed", "checkout.session.expired"],
            .other, ["checkout_session"], idRequired: false)
        add(["event.rejected"], .other, ["event"], idRequired: false)
        // Entity snapshots imported by `backfill --entity` (list-API rows and CSV exports).
        for entity in BackfillEntity.allCases {
            add([entity.eventType], entity.entityKind, [entity.objectKey])
        }
        return routes
    }()
}
