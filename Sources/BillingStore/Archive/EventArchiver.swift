import BillingCore
import Foundation
import Logging
import Postgres

/// `billing-events archive` and `restore`: moves whole months of the log to files and back.
///
/// Archiving a month runs in one transaction on one session: the month's partition is locked
/// against writes (in-flight inserts finish first), every event is written to the file by
/// position, the events are folded into the archive snapshot (``ArchiveSnapshot``) whose tables
/// are written too, the file is re-read and verified, and only then is the partition dropped and
/// the month recorded in `billing.event_archives`. Anything that fails rolls all of it back; the
/// keys stay in `billing.event_keys`, so a redelivery of an archived event is still a duplicate.
public struct EventArchiver: Sendable {
    /// One archived month.
    public struct Archived: Sendable {
        /// `YYYY-MM`.
        public var month: String
        /// The file written.
        public var file: String
        /// Events in it.
        public var events: Int64
        /// Compressed bytes.
        public var bytes: Int64
        /// SHA-256 of the uncompressed content.
        public var sha256: String
        /// Wall time, file writing and verification included.
        public var elapsed: Duration
    }

    /// One restored file.
    public struct Restored: Sendable {
        /// `YYYY-MM`.
        public var month: String
        /// Events the file holds.
        public var events: Int64
        /// Events put back (the rest were in the log already).
        public var inserted: Int64
        /// Wall time.
        public var elapsed: Duration
    }

    /// The database (a session: the archive holds locks and temporary tables).
    public var configuration: PostgresConfiguration
    /// Operational log.
    public var logger: Logger

    /// The first instant (UTC) of the month `text` names (`YYYY-MM`), if it names one.
    public static func firstDay(ofMonth text: String) -> Date? { EventArchiveChecks.Month(name: text)?.first }

    /// Creates an archiver.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Archives every whole month before `before` (the first day of a month, UTC) into
    /// `directory`, oldest first. Refused, with nothing archived, when one of them is still being
    /// written: not over for `quietPeriod`, an event received within it, or an event the
    /// projections have not applied yet.
    public func archive(before: Date, into directory: String, quietPeriod: Duration) async throws -> [Archived] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try await PostgresConnection.withConnection(configuration, logger: logger) { connection in
            try await connection.perform { [logger] connection in
                let months = try EventArchiveChecks.archivable(before: before, quietPeriod: quietPeriod, on: connection)
                var archived: [Archived] = []
                for month in months {
                    let result = try Self.archive(month, into: directory, on: connection)
                    logger.info(
                        "archived a month of the log",
                        metadata: ["month": "\(result.month)", "events": "\(result.events)", "file": "\(result.file)"])
                    archived.append(result)
                }
                return archived
            }
        }
    }

    /// Brings the months in `files` back into the log with their ids and positions; events
    /// already there are left alone, so restoring twice changes nothing. Each file is verified
    /// whole before anything is written.
    public func restore(_ files: [String]) async throws -> [Restored] {
        try await PostgresConnection.withConnection(configuration, logger: logger) { connection in
            try await connection.perform { connection in try files.map { try Self.restore($0, on: connection) } }
        }
    }

    private static func archive(
        _ month: EventArchiveChecks.Month, into directory: String, on connection: isolated PostgresConnection
    ) throws
        -> Archived
    {
        let started = ContinuousClock.now
        let path = (directory as NSString).appendingPathComponent("billing-events-\(month.name).tsv.gz")
        let writer = try EventArchiveFile.Writer(path: path, month: month.name)
        do {
            return try connection.transaction {
                try connection.execute("SET LOCAL lock_timeout = '30s'")
                try connection.execute("SELECT pg_advisory_xact_lock(\(ArchiveSnapshot.lockKey))")
                try connection.execute("LOCK TABLE billing.\(identifier: month.table) IN SHARE MODE")
                try EventArchiveChecks.requireApplied(month, on: connection)
                let previous =
                    try connection.execute("SELECT last_position FROM billing.event_archives WHERE month = \(month.first)::date")
                    .first?.decode(Int64.self, at: 0) ?? 0
                let columns = try EventArchiveChecks.logColumns(on: connection)
                try writer.begin(.init(name: "events", columns: columns))
                let (events, lastPosition) = try writeEvents(of: month, columns: columns, to: writer, on: connection)
                try writer.end()
                let filter: PostgresQuery = """
                    billing.event_time(occurred_at, received_at) >= \(month.first) AND billing.event_time(occurred_at, received_at) < \(month.next)
                    AND position > \(previous)
                    """
                _ = try ArchiveSnapshot.fold(filter, on: connection)
                var sections: [(EventArchiveFile.Section, Int)] = [(.init(name: "events", columns: columns), Int(events))]
                for table in ArchiveSnapshot.names(ReadModelTable.allCases) {
                    sections.append(try writeSnapshot(table, to: writer, on: connection))
                }
                let sha256 = try writer.finish()
                let contents = try EventArchiveFile.read(path)
                guard contents.sha256 == sha256, contents.month == month.name, contents.sections.map(\.rows) == sections.map(\.1) else {
                    throw EventArchiveError("\(path) did not read back as written; the month was not dropped", code: .failed)
                }
                // Dropping a partition takes ACCESS EXCLUSIVE on the log, and every insert queues
                // behind a waiting request: wait briefly, and leave the month for a quieter moment.
                try connection.execute("SET LOCAL lock_timeout = '5s'")
                do {
                    try connection.execute("DROP TABLE billing.\(identifier: month.table)")
                } catch  where EventPartitions.gaveUp(error) {
                    throw EventArchiveError(
                        "\(month.name) was not archived: a long query kept the log busy for 5 s; run the command again", code: .refused)
                }
                let bytes = Int64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
                try connection.execute(
                    """
                    INSERT INTO billing.event_archives (month, file_name, sha256, events, bytes, archived_by, last_position)
                    VALUES (\(month.first)::date, \((path as NSString).lastPathComponent), \(sha256), \(events), \(bytes),
                            current_user, \(max(previous, lastPosition)))
                    ON CONFLICT (month) DO UPDATE SET file_name = excluded.file_name, sha256 = excluded.sha256, events = excluded.events,
                        bytes = excluded.bytes, archived_at = now(), archived_by = excluded.archived_by,
                        last_position = excluded.last_position, restored_at = NULL
                    """)
                return Archived(
                    month: month.name, file: path, events: events, bytes: bytes, sha256: sha256, elapsed: ContinuousClock.now - started)
            }
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Writes the month's events by position; returns how many and the highest position.
    private static func writeEvents(
        of month: EventArchiveChecks.Month, columns: [String], to writer: EventArchiveFile.Writer, on connection: isolated PostgresConnection
    ) throws -> (Int64, Int64) {
        let list = PostgresQuery.joined(columns.map { "\(identifier: $0)" }, separator: ", ")
        var after = Int64.min
        var count: Int64 = 0
        while true {
            let rows = try connection.execute(
                "SELECT \(list) FROM billing.\(identifier: month.table) WHERE position > \(after) ORDER BY position LIMIT 2000")
            for row in rows {
                try writer.row(row.values)
                after = try row.decode("position", as: Int64.self)
                count += 1
            }
            if rows.rows.count < 2000 { break }
        }
        return (count, after == .min ? 0 : after)
    }

    /// Writes a scratch table of the snapshot through a cursor (read models can be large).
    private static func writeSnapshot(
        _ table: String, to writer: EventArchiveFile.Writer, on connection: isolated PostgresConnection
    ) throws -> (EventArchiveFile.Section, Int) {
        try connection.execute("DECLARE snapshot_rows NO SCROLL CURSOR FOR SELECT * FROM pg_temp.\(identifier: table) ORDER BY 1")
        defer { _ = try? connection.execute("CLOSE snapshot_rows") }
        var section: EventArchiveFile.Section?
        var count = 0
        while true {
            let rows = try connection.execute("FETCH 2000 FROM snapshot_rows")
            if section == nil {
                section = EventArchiveFile.Section(name: "snapshot." + table, columns: rows.columns.names)
                try writer.begin(section!)
            }
            for row in rows {
                try writer.row(row.values)
                count += 1
            }
            if rows.rows.count < 2000 { break }
        }
        try writer.end()
        return (section!, count)
    }

    private static func restore(_ path: String, on connection: isolated PostgresConnection) throws -> Restored {
        let started = ContinuousClock.now
        let contents = try EventArchiveFile.read(path)
        guard let events = contents.sections.first(where: { $0.section.name == "events" }) else {
            throw EventArchiveError("\(path) holds no events section")
        }
        guard let first = EventArchiveChecks.Month(name: contents.month) else {
            throw EventArchiveError("\(path): month \(contents.month) is not YYYY-MM")
        }
        return try connection.transaction {
            try connection.execute("SELECT billing.create_event_month(\(first.first)::date)")
            try connection.execute("CREATE TEMP TABLE restore_events (LIKE billing.events) ON COMMIT DROP")
            let list = PostgresQuery.joined(events.section.columns.map { "\(identifier: $0)" }, separator: ", ")
            var copy: [UInt8] = []
            var copied: Int64 = 0
            let flush = { (data: inout [UInt8]) throws in
                guard !data.isEmpty else { return }
                try connection.copyIn("COPY pg_temp.restore_events (\(list)) FROM STDIN", data: data)
                data.removeAll(keepingCapacity: true)
            }
            _ = try EventArchiveFile.read(path) { section, row in
                guard section.name == "events" else { return }
                copy.append(contentsOf: row)
                copied += 1
                if copy.count >= 8 << 20 { try flush(&copy) }
            }
            try flush(&copy)
            let inserted = try connection.execute(
                """
                WITH keys AS (\(EventsTable.keys(from: "pg_temp.restore_events", position: "position")))
                INSERT INTO billing.events (\(list))
                SELECT \(list) FROM pg_temp.restore_events r
                WHERE NOT EXISTS (SELECT 1 FROM billing.events e WHERE e.position = r.position
                    AND billing.event_time(e.occurred_at, e.received_at) = billing.event_time(r.occurred_at, r.received_at))
                ORDER BY position
                """
            ).affectedRows
            try connection.execute("UPDATE billing.event_archives SET restored_at = now() WHERE month = \(first.first)::date")
            return Restored(month: contents.month, events: copied, inserted: Int64(inserted), elapsed: ContinuousClock.now - started)
        }
    }
}
