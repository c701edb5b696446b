/// Why archiving or restoring a month of the log stopped. Nothing was dropped or restored.
public struct EventArchiveError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for the operator.
    public var message: String

    /// Wraps `message`.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
