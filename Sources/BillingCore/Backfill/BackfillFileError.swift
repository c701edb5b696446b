/// A backfill file whose structure is broken where no single record can be set aside (a JSON
/// array that never closes, a CSV quote that never ends): the import stops there.
public struct BackfillFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// The line where it was found (1-based).
    public var line: Int

    /// Creates an error.
    public init(_ message: String, line: Int) {
        self.message = message
        self.line = line
    }

    /// `line N: message`.
    public var description: String { "line \(line): \(message)" }
}
