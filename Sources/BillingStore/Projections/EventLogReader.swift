import BillingCore
import Foundation
import Postgres

/// A place in the log: the last event read, by commit-ordered transaction id and position.
public struct LogCheckpoint: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `xid8` of the last event's transaction (0 before the first event).
    public var transactionID: UInt64
    /// Position of the last event.
    public var position: Int64

    /// The checkpoint before any event.
    public static let start = LogCheckpoint(transactionID: 0, position: 0)

    /// Creates a checkpoint.
    public init(transactionID: UInt64, position: Int64) {
        self.transactionID = transactionID
        self.position = position
    }

    public static func < (lhs: LogCheckpoint, rhs: LogCheckpoint) -> Bool {
        (lhs.transactionID, lhs.position) < (rhs.transactionID, rhs.position)
    }

    /// `<transaction id>:<position>`.
    public var description: String { "\(transactionID):\(position)" }
}

/// One event as a projector reads it back from the log.
public struct StoredEvent: Sendable, Equatable {
    /// Where it stands in the log.
    public var checkpoint: LogCheckpoint
    /// The event as it was normalized and stored.
    public var event: NormalizedEvent
    /// How it arrived.
    public var channel: IngestChannel
    /// When the service received it.
    public var receivedAt: Date
    /// The exact body.
    public var rawBody: [UInt8]
}

/// What one scan of the log found.
struct LogScan: Sendable {
    /// The matching events, oldest first.
    var events: [StoredEvent]
    /// The last event of any kind below the horizon after the checkpoint: when fewer than the
    /// limit matched, everything up to here has been considered.
    var end: LogCheckpoint?
    /// True when committed events wait above the horizon (an older transaction is still open).
    var heldBack: Bool
}

/// Reads the log in commit order without ever skipping an event.
///
/// Positions come from a sequence and become visible out of order under concurrent writers, so
/// the reader orders by transaction id (`xid8`) and position and reads only below
/// `pg_snapshot_xmin(pg_current_snapshot())`: every transaction below that horizon has committed or
/// rolled back, so no event can later appear behind a checkpoint. A long-open transaction anywhere
/// in the cluster holds the horizon back (the reader waits; it never skips).
public enum EventLogReader {
    /// Up to `limit` events after `checkpoint`, oldest first, read in a transaction of its own.
    public static func read(after checkpoint: LogCheckpoint, limit: Int, on connection: isolated PostgresConnection) throws -> [StoredEvent] {
        try connection.transaction { try scan(after: checkpoint, limit: limit, filter: "true", on: connection).events }
    }

    /// Up to `limit` events matching `filter` (a condition over `billing.events`) after
    /// `checkpoint`, with the scan's end and whether newer events wait above the horizon — all
    /// from one statement, so one snapshot. Call it inside a transaction: it holds the partition
    /// maintenance lock shared until the transaction ends. Every part is ordered by the (transaction id, position)
    /// index and compares with the horizon as a scalar, so the planner bounds each by the index
    /// (a `LIMIT 1` without `ORDER BY` was planned as a sequential scan of the whole log).
    static func scan(after checkpoint: LogCheckpoint, limit: Int, filter: PostgresQuery, on connection: isolated PostgresConnection) throws -> LogScan
    {
        // Not while rows move out of the default partition (billing.create_event_month): a read
        // planned before that move commits and run after it would see them in no partition. A
        // statement of its own, so the read is planned after the lock is granted.
        try connection.execute("SELECT pg_advisory_xact_lock_shared(hashtextextended('billing-events/event-partitions', 0))")
        let after: PostgresQuery = "(transaction_id, position) > (\(String(checkpoint.transactionID))::xid8, \(checkpoint.position))"
        let columns = EventsTable.readColumns
        let padding = EventsTable.readPadding
        let rows = try connection.execute(
            """
            WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
            (SELECT 'event' AS kind, transaction_id, position, \(columns)
             FROM billing.events
             WHERE \(after) AND transaction_id < (SELECT xmin FROM horizon) AND \(filter)
             ORDER BY transaction_id, position LIMIT \(limit))
            UNION ALL
            (SELECT 'end', transaction_id, position, \(padding)
             FROM billing.events
             WHERE \(after) AND transaction_id < (SELECT xmin FROM horizon)
             ORDER BY transaction_id DESC, position DESC LIMIT 1)
            UNION ALL
            (SELECT 'held', transaction_id, position, \(padding)
             FROM billing.events WHERE transaction_id >= (SELECT xmin FROM horizon) ORDER BY transaction_id, position LIMIT 1)
            """)
        var scan = LogScan(events: [], end: nil, heldBack: false)
        for row in rows {
            let kind = try row.decode(String.self, at: 0)
            let checkpoint = LogCheckpoint(transactionID: try row.decode(at: 1), position: try row.decode(at: 2))
            switch kind {
            case "end": scan.end = checkpoint
            case "held": scan.heldBack = true
            default: scan.events.append(try EventsTable.storedEvent(row, at: 3, checkpoint: checkpoint))
            }
        }
        return scan
    }
}
