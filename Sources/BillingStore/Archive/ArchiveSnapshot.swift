import BillingCore
import Foundation
import Postgres

/// The read models of every archived event: `billing.snapshot_<table>` for each read-model and
/// version table. Archiving a month folds its events into the snapshot before its partition is
/// dropped; a rebuild starts from the snapshot and replays only the events it does not hold.
///
/// A snapshot holds, per archived month, the events at or below the archive's `last_position`
/// (`billing.event_archives`). Restored events keep their positions, so the snapshot still holds
/// them and a rebuild leaves them out; an event that arrives for an archived month later gets a
/// higher position (the partition is locked while the month is archived) and is replayed. The
/// projections' fold does not depend on the order of events (last writer by as-of wins, tested by
/// `ProjectionConvergenceTests`), so snapshot + the rest equals the incremental read models.
enum ArchiveSnapshot {
    /// The advisory lock between archiving (exclusive, per month's transaction) and rebuilding
    /// (shared, for the whole rebuild): a rebuild reads the snapshot and the archived months once,
    /// at its start, and must not see an archive land half-way.
    static let lockKey: PostgresQuery = "hashtextextended('billing-events/archive-snapshot', 0)"

    /// The condition over `billing.events` that leaves out the events the snapshot holds, as of
    /// now: per archived month, its events at or below the archive's `last_position`. A plain row
    /// filter with the bounds as values, never a join, so the log reader keeps its ordered index
    /// scans (an anti-join to `billing.event_archives` was planned as a hash join over the whole
    /// log, for every batch).
    static func notCovered(on connection: isolated PostgresConnection) throws -> PostgresQuery {
        let rows = try connection.execute(
            "SELECT month::timestamptz, (month + interval '1 month')::timestamptz, last_position FROM billing.event_archives ORDER BY month")
        guard !rows.rows.isEmpty else { return "true" }
        let months = try rows.map { row -> PostgresQuery in
            let (first, next, last) = try row.decode((Date, Date, Int64).self)
            return """
                NOT (billing.event_time(occurred_at, received_at) >= \(first) AND billing.event_time(occurred_at, received_at) < \(next) \
                AND position <= \(last))
                """
        }
        return PostgresQuery.joined(months, separator: " AND ")
    }

    /// The snapshot tables of `tables` (read models and version logs).
    static func names(_ tables: [ReadModelTable]) -> [String] {
        ProjectionRebuilder.scratchTables(tables).filter { $0 != "projection_dead_letters" }
    }

    /// Fills the session's scratch copies (`pg_temp.<table>`, empty) of `tables` from the snapshot,
    /// column by column name, so a column added to a read model since then starts NULL.
    static func seed(_ tables: [ReadModelTable], on connection: isolated PostgresConnection) throws {
        for table in names(tables) {
            let columns = try connection.execute(
                """
                SELECT s.attname::text FROM pg_attribute s
                JOIN pg_attribute t ON t.attrelid = ('pg_temp.' || quote_ident(\(table)))::regclass AND t.attname = s.attname
                    AND t.attnum > 0 AND NOT t.attisdropped
                WHERE s.attrelid = to_regclass('billing.snapshot_' || \(table)) AND s.attnum > 0 AND NOT s.attisdropped
                ORDER BY s.attnum
                """
            ).decodeColumn(String.self)
            guard !columns.isEmpty else { continue }
            let list = PostgresQuery.joined(columns.map { "\(identifier: $0)" }, separator: ", ")
            try connection.execute(
                "INSERT INTO pg_temp.\(identifier: table) (\(list)) SELECT \(list) FROM billing.\(identifier: "snapshot_" + table)")
        }
    }

    /// Folds the events `filter` selects into the snapshot: each projection's scratch copies are
    /// seeded from the snapshot, the events are applied, and the result replaces the snapshot
    /// tables. Runs inside the caller's transaction; the scratch copies stay for the caller to read
    /// (``names(_:)``). Returns the events folded.
    static func fold(_ filter: PostgresQuery, on connection: isolated PostgresConnection) throws -> Int {
        var folded = 0
        for projection in Projection.all {
            try ProjectionRebuilder.createScratchTables(projection.tables, on: connection)
            try seed(projection.tables, on: connection)
            var report = ProjectionRebuilder.Report(projection: projection, applied: 0, deadLetters: 0, checkpoint: .start, elapsed: .zero)
            try ProjectionRebuilder.catchUp(&report, batchSize: 5000, inTransaction: true, filter: filter, on: connection)
            folded += report.applied + report.deadLetters
            for table in names(projection.tables) {
                let snapshot = "snapshot_" + table
                try connection.execute("DROP TABLE IF EXISTS billing.\(identifier: snapshot)")
                try connection.execute("CREATE TABLE billing.\(identifier: snapshot) AS SELECT * FROM pg_temp.\(identifier: table)")
            }
        }
        return folded
    }
}
