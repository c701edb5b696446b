/// What an event is about. Stored verbatim in the log (`entity_kind`) and used by projections.
public enum EntityKind: String, Sendable, CaseIterable, Codable {
    case customer
    case subscription
    case wallet
    case walletTransaction = "wallet_transaction"
    case payment
    case refund
    case invoice
    case creditNote = "credit_note"
    /// A mintfax credit balance snapshot (owned by a mintfax environment, not a customer).
    case balance
    case fax
    /// Known event types about entities the read models do not track (features, checkouts…).
    case other
}

/// How an event reached the log.
public enum IngestChannel: String, Sendable, CaseIterable, Codable {
    /// A signed HTTP delivery.
    case webhook
    /// A line of a provider export imported by `billing-events backfill`.
    case backfill
    /// An entity snapshot (list API or CSV row) imported by `billing-events backfill --entity`.
    case snapshot
}
