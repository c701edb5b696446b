/// A backfill that cannot go on: the file cannot be read to its end (I/O error, corrupt gzip), or
/// another run holds the same import. What was committed before stays; the same command continues.
public struct BackfillError: Error, Sendable, CustomStringConvertible {
    /// The kinds of stop.
    public enum Code: String, Sendable {
        /// The file or the import failed part-way; running the command again continues.
        case stopped
        /// Another run is importing the same file now; this one did nothing.
        case concurrentRun = "concurrent_run"
    }

    /// What kind of stop it is.
    public var code: Code
    /// What went wrong, naming the place when known.
    public var message: String

    /// Creates an error.
    public init(_ message: String, code: Code = .stopped) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
