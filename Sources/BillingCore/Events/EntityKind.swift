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
