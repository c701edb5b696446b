import Foundation
import Postgres

/// The monthly partitions of `billing.events` (migration 0011): created ahead of need by the
/// receivers (every minute: this month and the next two, and any month an event fell into the
/// default partition for), by the backfill (the months of each batch, before it is written) and
/// by `migrate`. No insert fails for want of a partition: an event of a month without one lands in
/// `billing.events_default` and is moved into its month's partition at the next run. While rows
/// move (milliseconds), inserts into the default partition and the projectors' reads wait; an
/// insert routed to the default partition just before the new month was attached is refused with
/// a partition-constraint violation, which the writers' transactions retry
/// (``PostgresError/isTransactionConflict``).
public enum EventPartitions {
    /// One partition of the log, or an archived month without one.
    public struct Partition: Sendable, Equatable {
        /// The first day of the month (UTC) for a monthly partition or an archived month; nil
        /// for `events_legacy` (an upgraded log) and `events_default`.
        public var month: Date?
        /// The table's name in schema `billing`; nil for a month that is only archived.
        public var table: String?
        /// PostgreSQL's partition bound (`FOR VALUES FROM (…) TO (…)`, `DEFAULT`).
        public var bound: String?
        /// Events in it: exact when counted, else the planner's estimate.
        public var events: Int64
        /// Whether ``events`` was counted.
        public var counted: Bool
        /// Bytes on disk: table, TOAST and indexes.
        public var bytes: Int64
        /// When the month was archived, if it was.
        public var archivedAt: Date?
        /// Events the archive holds.
        public var archivedEvents: Int64?
        /// The archive file's name.
        public var archiveFile: String?
        /// When the archive was last restored.
        public var restoredAt: Date?
    }

    /// Creates the partitions of this month and the next `ahead` months, and of every month found
    /// in the default partition (moving its rows); returns how many were created (0 on a schema
    /// older than migration 0011, which has no partitions).
    @discardableResult
    public static func ensure(ahead: Int = 2, on connection: isolated PostgresConnection) throws -> Int {
        let partitioned = try connection.execute("SELECT to_regproc('billing.ensure_event_partitions') IS NOT NULL").rows[0]
            .decode(Bool.self, at: 0)
        guard partitioned else { return 0 }
        return try connection.transaction {
            try connection.execute(Self.lockTimeout)
            return try connection.execute("SELECT billing.ensure_event_partitions(\(ahead)::integer)").rows[0].decode(Int.self, at: 0)
        }
    }

    /// Creates the partitions of the months (UTC) that hold `times`; returns how many were created.
    @discardableResult
    public static func ensure(monthsOf times: some Sequence<Date>, on connection: isolated PostgresConnection) throws -> Int {
        let months = Set(times.map(Self.month(of:))).sorted()
        guard !months.isEmpty else { return 0 }
        return try connection.transaction {
            try connection.execute(Self.lockTimeout)
            return try connection.execute(
                """
                SELECT count(*) FILTER (WHERE billing.create_event_month((m AT TIME ZONE 'UTC')::date))::int8
                FROM unnest(\(months)::timestamptz[]) AS m
                """
            ).rows[0].decode(Int.self, at: 0)
        }
    }

    /// How long creating a month may wait for its locks. Attaching a partition takes ACCESS
    /// EXCLUSIVE on the default partition, which waits for every query reading it (an analyst's
    /// long transaction over `billing.events`), and while it waits, inserts into the default
    /// partition and the projectors' reads queue behind it. So it gives up after 2 s (SQLSTATE
    /// 55P03) and the next minute's run tries again; events meanwhile wait in the default partition.
    static let lockTimeout: PostgresQuery = "SET LOCAL lock_timeout = '2s'"

    /// True for the error of a run that gave up waiting for its locks (``lockTimeout``).
    public static func gaveUp(_ error: any Error) -> Bool { PostgresError.cause(of: error)?.code == "55P03" }

    /// The partitions and archived months, oldest month first (legacy and default last); `exact`
    /// counts every partition's events instead of taking the planner's estimate.
    public static func list(exact: Bool, on connection: isolated PostgresConnection) throws -> [Partition] {
        let rows = try connection.execute(
            """
            SELECT month::timestamptz, partition, bound, estimated_events, bytes, archived_at, archived_events, archive_file, restored_at
            FROM analytics.event_months ORDER BY month NULLS LAST, partition
            """)
        return try rows.map { row in
            let (month, table, bound, estimate, bytes, archivedAt, archivedEvents, archiveFile, restoredAt) = try row.decode(
                (Date?, String?, String?, Int64, Int64, Date?, Int64?, String?, Date?).self)
            var events = estimate
            if exact, let table {
                events = try connection.execute("SELECT count(*)::int8 FROM billing.\(identifier: table)").rows[0].decode(Int64.self, at: 0)
            }
            return Partition(
                month: month, table: table, bound: bound, events: events, counted: exact && table != nil, bytes: bytes,
                archivedAt: archivedAt, archivedEvents: archivedEvents, archiveFile: archiveFile, restoredAt: restoredAt)
        }
    }

    /// The first instant (UTC) of the month that holds `date`.
    public static func month(of date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
    }
}
