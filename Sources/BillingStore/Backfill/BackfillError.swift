/// A backfill that cannot go on: the file cannot be read to its end (I/O error, corrupt gzip), or
/// another run holds the same import. What was committed before stays; the same command continues.
public struct BackfillError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, naming the place when known.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
