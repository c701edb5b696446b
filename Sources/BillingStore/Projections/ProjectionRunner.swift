import BillingCore
import Foundation
import Logging
import Postgres

/// Runs one projection: takes its lease (a session advisory lock, so it is released the moment the
/// holder's connection dies), then reads the log in commit order, applies batches and commits each
/// with its checkpoint, waking on `NOTIFY billing_events` and polling as a fallback. Other
/// instances stand by and take over when the lease frees up.
///
/// Fencing: every batch's transaction checks that its own server session holds the lease before
/// it writes, so a runner whose session lost the lease (its backend ended, or a transaction pooler
/// ran the batch on another session) never commits another batch; it starts over from taking the lease.
public struct ProjectionRunner: Sendable {
    /// The projection.
    public let projection: Projection
    let configuration: PostgresConfiguration
    let options: ProjectionOptions
    let logger: Logger

    /// Creates a runner; it connects when run.
    public init(projection: Projection, configuration: PostgresConfiguration, options: ProjectionOptions, logger: Logger) {
        self.projection = projection
        self.configuration = configuration
        self.options = options
        var logger = logger
        logger[metadataKey: "projection"] = "\(projection.name)"
        self.logger = logger
    }

    /// Runs until the task is cancelled; reconnects after database failures.
    public func run() async {
        options.metrics.projection(projection, active: false)
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await PostgresConnection.withConnection(configuration, logger: logger) { try await lead($0) }
                delay = .milliseconds(100)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("projection runner failed; reconnecting", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// The advisory lock key of `projection`'s lease.
    static func leaseKey(of projection: Projection) -> PostgresQuery {
        "hashtextextended(\("billing-events/projection/" + projection.name), 0)"
    }

    private func lead(_ connection: PostgresConnection) async throws {
        var standingBy = false
        while !Task.isCancelled {
            let acquired = try await connection.perform { [projection] connection in
                try connection.execute("SELECT pg_try_advisory_lock(\(Self.leaseKey(of: projection)))").rows[0].decode(Bool.self, at: 0)
            }
            if acquired { break }
            if !standingBy { logger.info("another instance runs this projection; standing by") }
            standingBy = true
            try await Task.sleep(for: options.standbyInterval)
        }
        guard !Task.isCancelled else { return }
        logger.info("projection runner active")
        options.metrics.projection(projection, active: true)
        defer { options.metrics.projection(projection, active: false) }
        try await connection.perform { connection in try connection.listen("billing_events") }
        var policy = ProjectionBatch.Policy(maxAttempts: options.maxAttempts)
        var singleSteps = 0
        while !Task.isCancelled {
            let limit = singleSteps > 0 ? 1 : options.batchSize
            let result = try await connection.perform { [projection, policy, options] connection in
                try Self.batch(projection, limit: limit, policy: policy, owner: options.owner, on: connection)
            }
            options.metrics.applied(result.applied.count, projection: projection)
            options.onBatch?(projection, result)
            singleSteps = result.split ? options.batchSize : max(0, singleSteps - 1)
            for parked in result.parked {
                logger.error("event parked as a dead letter", metadata: ["event_id": "\(parked.event.id)", "type": "\(parked.event.eventType)"])
                policy.attempts[parked.event.id] = nil
            }
            if let failure = result.failure {
                let attempt = (policy.attempts[failure.event.event.id] ?? 0) + 1
                policy.attempts[failure.event.event.id] = attempt
                logger.warning(
                    "event failed to project; retrying",
                    metadata: [
                        "event_id": "\(failure.event.event.id)", "attempt": "\(attempt)", "error": "\(failure.error)",
                    ])
                try await Task.sleep(for: options.backoff(attempt: attempt))
            } else if result.split || !result.exhausted {
                continue
            } else if result.heldBack {
                try await Task.sleep(for: min(options.pollInterval, .milliseconds(50)))
            } else {
                try await waitForNotification(connection)
            }
        }
    }

    /// One batch in its own transaction: serialized with any other writer of this projection (a
    /// rebuild's swap) by a transaction advisory lock, fenced by the lease, checkpoint read and
    /// written in it.
    static func batch(
        _ projection: Projection, limit: Int, policy: ProjectionBatch.Policy, owner: String, on connection: isolated PostgresConnection
    ) throws -> ProjectionBatchResult {
        try connection.transaction {
            try lockBatches(of: projection, on: connection)
            guard try holdsLease(of: projection, on: connection) else {
                throw ProjectionLeaseError(
                    projection: projection.name,
                    message: "this session no longer holds the lease of projection \(projection.name); the batch was not applied")
            }
            let checkpoint = try self.checkpoint(of: projection, on: connection)
            let result = try ProjectionBatch.run(
                projection, after: checkpoint, limit: limit, schema: "billing", policy: policy, on: connection)
            if result.checkpoint != checkpoint || !result.parked.isEmpty {
                try connection.execute(
                    """
                    UPDATE billing.projection_checkpoints
                    SET transaction_id = \(String(result.checkpoint.transactionID))::xid8, position = \(result.checkpoint.position),
                        events_applied = events_applied + \(result.applied.count), owner = \(owner), updated_at = now()
                    WHERE name = \(projection.name)
                    """)
            }
            return result
        }
    }

    /// Takes the lock that serializes every transaction writing `projection`'s tables.
    static func lockBatches(of projection: Projection, on connection: isolated PostgresConnection) throws {
        try connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("billing-events/projection-batch/" + projection.name), 0))")
    }

    /// Whether this transaction's own server session holds `projection`'s lease. `pg_locks` shows a
    /// bigint advisory key as its high and low 32 bits in `classid` and `objid`, with `objsubid` 1.
    static func holdsLease(of projection: Projection, on connection: isolated PostgresConnection) throws -> Bool {
        try connection.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_locks, (SELECT \(leaseKey(of: projection)) AS k) AS lease
                WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
                  AND classid::bigint = (lease.k >> 32) & 4294967295 AND objid::bigint = lease.k & 4294967295)
            """
        ).rows[0].decode(Bool.self, at: 0)
    }

    /// The stored checkpoint (the row is created when missing).
    static func checkpoint(of projection: Projection, on connection: isolated PostgresConnection) throws -> LogCheckpoint {
        let rows = try connection.execute(
            "SELECT transaction_id, position FROM billing.projection_checkpoints WHERE name = \(projection.name)"
        ).rows
        guard let row = rows.first else {
            try connection.execute("INSERT INTO billing.projection_checkpoints (name) VALUES (\(projection.name)) ON CONFLICT DO NOTHING")
            return .start
        }
        return LogCheckpoint(transactionID: try row.decode(at: 0), position: try row.decode(at: 1))
    }

    /// Waits for `NOTIFY billing_events` (draining any backlog) or the poll interval.
    private func waitForNotification(_ connection: PostgresConnection) async throws {
        let deadline = ContinuousClock.now + options.pollInterval
        while !Task.isCancelled, ContinuousClock.now < deadline {
            let slice = min(.milliseconds(200), deadline - ContinuousClock.now)
            let notified = try await connection.perform { connection in
                guard try connection.nextNotification(timeout: slice) != nil else { return false }
                while try connection.nextNotification(timeout: .zero) != nil {}
                return true
            }
            if notified { return }
        }
    }
}
