/// A backfill file that cannot be read to its end (I/O error, corrupt gzip, broken structure);
/// the import stops there, keeping what was committed before.
public struct BackfillReadError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, naming the place when known.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
