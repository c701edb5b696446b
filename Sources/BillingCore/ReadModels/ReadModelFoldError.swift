/// Why an event could not be folded into the read models (the projector retries it, then parks
/// it as a dead letter).
public struct ReadModelFoldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, naming the field.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
