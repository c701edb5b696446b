/// Why the embedded development database could not be prepared.
public struct EmbeddedPostgresError: Error, Sendable, CustomStringConvertible {
    /// What went wrong and what to do about it.
    public var message: String
    /// Wraps a message.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
