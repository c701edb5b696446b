import Foundation
import Postgres

/// Where a projection stands: `billing-events projections status`.
public struct ProjectionStatus: Sendable {
    /// The projection.
    public var projection: Projection
    /// Its checkpoint.
    public var checkpoint: LogCheckpoint
    /// Events applied since the last rebuild (or ever).
    public var eventsApplied: Int64
    /// Committed events of its kinds after the checkpoint.
    public var eventsBehind: Int64
    /// Age of the oldest of those events (0 when caught up).
    public var secondsBehind: Double
    /// Events parked as dead letters.
    public var deadLetters: Int64
    /// The instance that last moved the checkpoint.
    public var owner: String?
    /// When the checkpoint last moved.
    public var updatedAt: Date
    /// When it was last rebuilt.
    public var rebuiltAt: Date?

    /// The status of every projection.
    public static func load(_ projections: [Projection] = Projection.all, on pool: PostgresPool) async throws -> [ProjectionStatus] {
        var statuses: [ProjectionStatus] = []
        for projection in projections {
            let rows = try await pool.query(
                """
                SELECT c.transaction_id, c.position, c.events_applied, lag.behind,
                       COALESCE((EXTRACT(EPOCH FROM now() - lag.oldest) * 1000)::int8, 0),
                       (SELECT count(*) FROM billing.projection_dead_letters d WHERE d.projection = c.name),
                       c.owner, c.updated_at, c.rebuilt_at
                FROM billing.projection_checkpoints c,
                     LATERAL (SELECT count(*) AS behind, min(received_at) AS oldest FROM billing.events
                              WHERE (transaction_id, position) > (c.transaction_id, c.position) AND \(projection.eventFilter)) lag
                WHERE c.name = \(projection.name)
                """
            ).rows
            guard let row = rows.first else {
                statuses.append(
                    ProjectionStatus(
                        projection: projection, checkpoint: .start, eventsApplied: 0, eventsBehind: 0, secondsBehind: 0,
                        deadLetters: 0, owner: nil, updatedAt: Date(timeIntervalSince1970: 0), rebuiltAt: nil))
                continue
            }
            let (transaction, position, applied, behind, seconds, dead, owner, updated, rebuilt) =
                try row.decode((UInt64, Int64, Int64, Int64, Int64, Int64, String?, Date, Date?).self)
            statuses.append(
                ProjectionStatus(
                    projection: projection, checkpoint: LogCheckpoint(transactionID: transaction, position: position),
                    eventsApplied: applied, eventsBehind: behind, secondsBehind: max(0, Double(seconds) / 1000), deadLetters: dead,
                    owner: owner, updatedAt: updated, rebuiltAt: rebuilt))
        }
        return statuses
    }
}
