import Foundation

/// A read-model table: one row per entity, keyed by a stable id.
public enum ReadModelTable: String, Sendable, CaseIterable {
    case customers
    case subscriptions
    case payments
    case refunds
    case wallets
    case walletTransactions = "wallet_transactions"

    /// The stable row id: a name-based UUID (version 8) from SHA-256 of the table, provider,
    /// environment and the provider's id, so a rebuild or another instance derives the same id.
    public func id(provider: Provider, environment: ProviderEnvironment, providerID: String) -> UUID {
        UUID(nameBasedOn: "billing-events/\(rawValue)/\(provider.rawValue)/\(environment.rawValue)/\(providerID)")
    }

    /// The table that keeps every register write (one row per event and register, never merged)
    /// for the history views in `analytics`; nil for tables without history.
    public var versionTable: String? {
        switch self {
        case .subscriptions: "subscription_versions"
        case .payments: "payment_versions"
        case .refunds: "refund_versions"
        case .wallets: "wallet_versions"
        case .customers, .walletTransactions: nil
        }
    }

    /// The registers (column groups) of this table.
    public var registers: [ReadModelRegister] { ReadModelRegister.all.filter { $0.table == self } }
}
