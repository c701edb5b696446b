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

    /// Columns every row has, whatever wrote it: its key, its provider identity, and the times
    /// the projection widens on every write (`created_at` is the provider's when known).
    public static let rowColumns: [ReadModelRegister.Column] = [
        .init(name: "id", type: .uuid), .init(name: "provider", type: .text), .init(name: "environment", type: .text),
        .init(name: "provider_id", type: .text), .init(name: "first_seen_at", type: .timestamptz),
        .init(name: "updated_at", type: .timestamptz), .init(name: "created_at", type: .timestamptz),
    ]

    /// Columns computed in SQL from the row and other tables after each batch (payments: from
    /// the provider's figures and the succeeded refunds), never written by a register.
    public var derivedColumns: [ReadModelRegister.Column] {
        switch self {
        case .payments:
            [
                .init(name: "status", type: .text), .init(name: "amount_refunded", type: .numeric),
                .init(name: "amount_refundable", type: .numeric),
            ]
        case .customers, .subscriptions, .refunds, .wallets, .walletTransactions: []
        }
    }

    /// Every column of the table, in no particular order: the row's, each register's state and
    /// version columns, and the derived ones. The migrations must create exactly these (a test
    /// compares them with `information_schema`).
    public var columns: [ReadModelRegister.Column] {
        Self.rowColumns + registers.flatMap { $0.versionColumns + $0.columns } + derivedColumns
    }

    /// Every column of ``versionTable``: the row's key, which register and version wrote it, and
    /// the state columns of every register of this table.
    public var versionTableColumns: [ReadModelRegister.Column] {
        ReadModelRegister.versionRowColumns + registers.flatMap(\.columns)
    }
}
