/// Turns a delivery's body into the event the log stores, or says why it cannot
/// (the delivery is then quarantined, never dropped).
public enum EventNormalizer {
    /// Parses the exact bytes and applies the provider's rules.
    public static func normalize(_ delivery: IncomingDelivery) throws(QuarantineReason) -> NormalizedEvent {
        let root: JSONValue
        do {
            root = try JSONParser.parse(delivery.body)
        } catch {
            throw QuarantineReason(.notJSON, "the body is not JSON: \(error.description)")
        }
        guard case .object = root else { throw QuarantineReason(.notObject, "the body is JSON but not an object") }
        let event: NormalizedEvent
        switch delivery.provider {
        case .flexprice: event = try FlexpriceNormalizer.normalize(root, delivery: delivery)
        case .mintcash: event = try MintCashNormalizer.normalize(root, delivery: delivery)
        case .mintfax: event = try MintfaxNormalizer.normalize(root, delivery: delivery)
        }
        try AmountBounds.checkSign(event)
        return event
    }

    /// Every event type the normalizers understand, per provider (for docs and tests).
    public static func knownEventTypes(_ provider: Provider) -> [String] {
        switch provider {
        case .flexprice: FlexpriceNormalizer.catalog.keys.sorted()
        case .mintcash: MintCashNormalizer.catalog.keys.sorted()
        case .mintfax: MintfaxNormalizer.catalog.keys.sorted()
        }
    }
}
