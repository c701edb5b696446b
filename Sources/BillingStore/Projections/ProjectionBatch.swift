import BillingCore
import Foundation
import Postgres

/// What one batch of a projection did.
public struct ProjectionBatchResult: Sendable {
    /// Events folded into the read models, oldest first.
    public var applied: [StoredEvent] = []
    /// Events parked as dead letters in this batch.
    public var parked: [StoredEvent] = []
    /// The checkpoint after the batch.
    public var checkpoint: LogCheckpoint
    /// The event the batch stopped before, with the error, when a fold failed and may be retried.
    public var failure: (event: StoredEvent, error: String)?
    /// True when a database error hit a batch of several events: nothing was applied; the caller
    /// retries one event per batch to find the culprit.
    public var split = false
    /// True when fewer events than the limit were read.
    public var exhausted = false
    /// True when committed events wait above the snapshot horizon.
    public var heldBack = false
}

/// Reads one batch of the log for a projection, folds it and writes the read models, all inside
/// the caller's transaction, so the writes and the checkpoint commit together.
enum ProjectionBatch {
    /// How a batch treats a failing event.
    struct Policy: Sendable {
        /// Failed attempts so far, per event id (kept by the runner across batches).
        var attempts: [UUID: Int] = [:]
        /// Attempts after which an event is parked as a dead letter.
        var maxAttempts: Int
    }

    /// Folds and applies up to `limit` events after `checkpoint` into `schema` (its read-model
    /// tables and its `projection_dead_letters`); `filter` narrows the projection's events further
    /// (a rebuild leaves out what the archive snapshot holds; an archive folds one month).
    static func run(
        _ projection: Projection, after checkpoint: LogCheckpoint, limit: Int, schema: String, policy: Policy,
        filter: PostgresQuery = "true", on connection: isolated PostgresConnection
    ) throws -> ProjectionBatchResult {
        let scan = try EventLogReader.scan(
            after: checkpoint, limit: limit, filter: "\(projection.eventFilter) AND \(filter)", on: connection)
        var result = ProjectionBatchResult(checkpoint: checkpoint, exhausted: scan.events.count < limit, heldBack: scan.heldBack)
        var writes: [ReadModelWrite] = []
        var errors: [UUID: String] = [:]
        for stored in scan.events {
            do {
                writes += try ReadModelFold.writes(for: stored.event, body: stored.rawBody)
                result.applied.append(stored)
            } catch {
                if (policy.attempts[stored.event.id] ?? 0) + 1 < policy.maxAttempts {
                    result.failure = (stored, error.message)
                    break
                }
                result.parked.append(stored)
                errors[stored.event.id] = error.message
            }
            result.checkpoint = stored.checkpoint
        }
        if result.failure == nil, result.exhausted, let end = scan.end { result.checkpoint = max(result.checkpoint, end) }

        try connection.execute("SAVEPOINT projection_apply")
        do {
            try ReadModelWriter.apply(writes, tables: projection.tables, schema: schema, on: connection)
            try connection.execute("RELEASE SAVEPOINT projection_apply")
        } catch let error as PostgresError where !error.isConnectionLoss {
            try connection.execute("ROLLBACK TO SAVEPOINT projection_apply")
            guard result.applied.count == 1, let culprit = result.applied.first else {
                return ProjectionBatchResult(checkpoint: checkpoint, split: true, heldBack: scan.heldBack)
            }
            result.applied = []
            if (policy.attempts[culprit.event.id] ?? 0) + 1 < policy.maxAttempts {
                result.failure = (culprit, error.message)
                result.checkpoint = checkpoint
                result.exhausted = false
                return result
            }
            result.parked.append(culprit)
            errors[culprit.event.id] = error.message
        }
        for stored in result.parked {
            try connection.execute(
                """
                INSERT INTO \(identifier: schema).projection_dead_letters
                    (projection, event_id, transaction_id, position, event_type, error, attempts)
                VALUES (\(projection.name), \(stored.event.id), \(String(stored.checkpoint.transactionID))::xid8,
                        \(stored.checkpoint.position), \(stored.event.eventType), \(errors[stored.event.id] ?? ""),
                        \((policy.attempts[stored.event.id] ?? 0) + 1))
                ON CONFLICT (projection, event_id) DO UPDATE
                SET error = excluded.error, attempts = excluded.attempts, failed_at = now()
                """)
        }
        return result
    }
}
