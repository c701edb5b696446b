import Crypto
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
        let name = "billing-events/\(rawValue)/\(provider.rawValue)/\(environment.rawValue)/\(providerID)"
        var bytes = Array(SHA256.hash(data: Array(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// The registers (column groups) of this table.
    public var registers: [ReadModelRegister] { ReadModelRegister.all.filter { $0.table == self } }
}
