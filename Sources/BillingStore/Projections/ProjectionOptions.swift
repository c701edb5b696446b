import Foundation

/// How projection runners work.
public struct ProjectionOptions: Sendable {
    /// Most events read and applied in one transaction.
    public var batchSize: Int
    /// Longest wait for a `NOTIFY` before polling the log anyway.
    public var pollInterval: Duration
    /// Attempts before a failing event is parked as a dead letter.
    public var maxAttempts: Int
    /// First retry delay of a failing event; doubles per attempt, at most 5 s.
    public var retryBackoff: Duration
    /// How often a standby runner tries to take over an active runner's lease.
    public var standbyInterval: Duration
    /// Written to the checkpoint row by the active runner (`host pid N`).
    public var owner: String
    /// Where runners report events applied and whether they are active.
    public var metrics: StoreMetrics
    /// Called after every committed batch (benchmarks and tests measure lag with it).
    public var onBatch: (@Sendable (Projection, ProjectionBatchResult) -> Void)?

    /// Creates options.
    public init(
        batchSize: Int = 2000, pollInterval: Duration = .seconds(1), maxAttempts: Int = 5,
        retryBackoff: Duration = .milliseconds(100), standbyInterval: Duration = .seconds(1),
        owner: String = "\(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)",
        metrics: StoreMetrics = StoreMetrics(), onBatch: (@Sendable (Projection, ProjectionBatchResult) -> Void)? = nil
    ) {
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.maxAttempts = maxAttempts
        self.retryBackoff = retryBackoff
        self.standbyInterval = standbyInterval
        self.owner = owner
        self.metrics = metrics
        self.onBatch = onBatch
    }

    /// The delay before retry number `attempt` (1-based).
    func backoff(attempt: Int) -> Duration {
        min(retryBackoff * (1 << min(attempt - 1, 16)), .seconds(5))
    }
}
