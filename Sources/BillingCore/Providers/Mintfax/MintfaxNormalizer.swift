import Foundation

/// mintfax bodies in both documented generations:
/// - current: `{id, type, created, data: {object: {...}}}` under Standard Webhooks headers; the
///   body `id` must equal the signed `webhook-id`;
/// - legacy: `{event, event_id, timestamp, data: {...}}` under `X-Mintfax-Signature`.
///
/// Dedupe key: the event id (`evt_…`). "As of" and occurred-at: `created` (unix seconds) or the
/// legacy `timestamp`. Balance snapshots carry integer cents: `available` becomes major units by
/// the currency's minor-unit digits (`4550` USD → `45.50`). The environment comes from the route
/// (bodies have no live/test flag).
enum MintfaxNormalizer {
    static func normalize(_ root: JSONValue, delivery: IncomingDelivery) throws(QuarantineReason) -> NormalizedEvent {
        let legacy = root["type"] == nil && root["event"] != nil
        let eventID = try PayloadField.requiredString(root[legacy ? "event_id" : "id"], legacy ? "event_id" : "id")
        let eventType = try PayloadField.requiredString(root[legacy ? "event" : "type"], legacy ? "event" : "type")
        if let deliveryID = delivery.deliveryID, deliveryID != eventID {
            throw QuarantineReason(.idMismatch, "body \(legacy ? "event_id" : "id") \"\(eventID)\" differs from the delivery id \"\(deliveryID)\"")
        }
        guard let kind = catalog[eventType] else {
            throw QuarantineReason(.unknownType, "type \"\(eventType)\" is not a known mintfax event")
        }
        let timeField = legacy ? "timestamp" : "created"
        guard let created = try PayloadField.timestamp(root[timeField], timeField) else {
            throw QuarantineReason(.missingField, "\(timeField) is missing")
        }
        let data = try PayloadField.requiredObject(root["data"], "data")
        let object: JSONValue
        if legacy, data["object"] == nil {
            object = data
        } else {
            object = try PayloadField.requiredObject(data["object"], "data.object")
        }

        let entityID: String?
        var amount: DecimalAmount?
        var currency: String?
        switch kind {
        case .balance:
            entityID = try PayloadField.string(object["environment_id"], "data.object.environment_id")
            currency = try PayloadField.currency(object["currency"], "data.object.currency")
            if let cents = try PayloadField.amount(object["available"], "data.object.available") {
                guard cents.exponent >= 0 else {
                    throw QuarantineReason(.invalidField, "data.object.available is not an integer number of cents")
                }
                let places = currency.map(Currency.minorUnitDigits) ?? 2
                amount = cents.shifted(by: places)
            }
        default:
            entityID = try PayloadField.requiredString(object["id"], "data.object.id")
        }
        return NormalizedEvent(
            provider: .mintfax, environment: delivery.environment, eventType: eventType, entityKind: kind,
            entityID: entityID, customerID: nil, occurredAt: created, asOf: created, amount: amount,
            currency: currency, dedupeKey: eventID, providerEventID: eventID)
    }

    /// Both generations' catalogs (`fax.submitted` and `fax.retry_scheduled` are legacy names).
    static let catalog: [String: EntityKind] = [
        "fax.queued": .fax, "fax.sending": .fax, "fax.delivered": .fax, "fax.failed": .fax,
        "fax.submitted": .fax, "fax.retry_scheduled": .fax,
        "balance.topup": .balance, "balance.low": .balance,
    ]
}
