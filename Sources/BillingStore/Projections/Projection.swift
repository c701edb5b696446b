import BillingCore
import Postgres

/// A named projection: the read-model tables it owns and which logged events it reads. Each has
/// its own checkpoint, runner lease and dead letters, and can be rebuilt alone.
public struct Projection: Sendable, Hashable, CustomStringConvertible {
    /// The name used by `projections status|rebuild` and in `billing.projection_checkpoints`.
    public let name: String
    /// The tables it writes.
    public let tables: [ReadModelTable]
    /// The condition over `billing.events` selecting the events it folds.
    let eventFilter: PostgresQuery

    /// Customers, from their own events and as they appear inside other events.
    public static let customers = Projection(
        name: "customers", tables: [.customers],
        eventFilter: "(entity_kind = 'customer' OR customer_provider_id IS NOT NULL)")
    /// Subscriptions.
    public static let subscriptions = Projection(
        name: "subscriptions", tables: [.subscriptions], eventFilter: "entity_kind = 'subscription'")
    /// Payments and their refunds.
    public static let payments = Projection(
        name: "payments", tables: [.payments, .refunds], eventFilter: "entity_kind IN ('payment', 'refund')")
    /// Wallets (Flexprice wallets and mintfax credit balances) and wallet transactions.
    public static let wallets = Projection(
        name: "wallets", tables: [.wallets, .walletTransactions],
        eventFilter: "entity_kind IN ('wallet', 'wallet_transaction', 'balance')")

    /// Every projection.
    public static let all: [Projection] = [customers, subscriptions, payments, wallets]

    /// The projection called `name`.
    public static func named(_ name: String) -> Projection? { all.first { $0.name == name } }

    public var description: String { name }

    /// Projections are told apart by name.
    public static func == (lhs: Projection, rhs: Projection) -> Bool { lhs.name == rhs.name }

    /// Hashes the name.
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}
