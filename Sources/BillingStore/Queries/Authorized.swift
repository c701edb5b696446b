import Foundation

/// The result of a read made for a valid API key.
public struct Authorized<Value: Sendable>: Sendable {
    /// The key.
    public var keyID: UUID
    /// True when the key's recorded last use is over a minute old (record this one).
    public var lastUseIsStale: Bool
    /// What was read.
    public var value: Value
}
