/// Flexprice entities whose list-API rows or CSV exports `backfill --entity` imports as snapshots.
public enum BackfillEntity: String, Sendable, CaseIterable {
    /// `POST /v1/customers/search` rows.
    case customers
    /// `POST /v1/subscriptions/search` rows.
    case subscriptions
    /// `GET /v1/wallets` rows.
    case wallets
    /// `POST /v1/wallets/transactions/search` rows.
    case walletTransactions = "wallet_transactions"
    /// `GET /v1/payments` rows.
    case payments

    /// The event type a snapshot of this entity is stored under (`customer.snapshot`…).
    public var eventType: String {
        switch self {
        case .customers: "customer.snapshot"
        case .subscriptions: "subscription.snapshot"
        case .wallets: "wallet.snapshot"
        case .walletTransactions: "wallet.transaction.snapshot"
        case .payments: "payment.snapshot"
        }
    }

    /// What a row of this entity is about.
    public var entityKind: EntityKind {
        switch self {
        case .customers: .customer
        case .subscriptions: .subscription
        case .wallets: .wallet
        case .walletTransactions: .walletTransaction
        case .payments: .payment
        }
    }

    /// The member of the stored body that holds the row, as in the entity's webhook payloads.
    public var objectKey: String {
        switch self {
        case .customers: "customer"
        case .subscriptions: "subscription"
        case .wallets: "wallet"
        case .walletTransactions: "transaction"
        case .payments: "payment"
        }
    }
}
