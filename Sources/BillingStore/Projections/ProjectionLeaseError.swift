/// A projection batch refused because the runner's session no longer holds the projection's lease:
/// another instance may be active, so this one must not write. The runner starts over by taking
/// the lease again.
public struct ProjectionLeaseError: Error, Sendable, CustomStringConvertible {
    /// The projection whose lease was lost.
    public var projection: String
    /// What happened.
    public var message: String

    /// The message.
    public var description: String { message }
}
