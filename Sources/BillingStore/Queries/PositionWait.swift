/// Read-your-writes for one read (`min_position`): the answer must come from a database that has
/// the event at `position` and whose projections have applied it, checked in the same statement
/// as the read, so with several replicas the check and the read cannot land on different ones.
/// The read is retried until then, for at most `timeout`.
public struct PositionWait: Sendable {
    /// The log position the answer must include.
    public var position: Int64
    /// Longest wait before ``NotReached`` is thrown.
    public var timeout: Duration

    /// Creates a wait.
    public init(position: Int64, timeout: Duration) {
        self.position = position
        self.timeout = timeout
    }

    /// The database that answered had not reached the position when the wait ran out.
    public struct NotReached: Error, Sendable, CustomStringConvertible {
        /// The position asked for.
        public var position: Int64
        /// How long the read waited.
        public var timeout: Duration

        /// The message.
        public var description: String { "the read models have not reached position \(position) within \(timeout); retry" }
    }
}
