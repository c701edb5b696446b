import ArgumentParser
import BillingStore
import Foundation
import Postgres

/// `billing-events partitions`: the months of the log, their size and archived state.
struct Partitions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the log's partitions (one per month of event time) with events, size on disk and archived state.",
        discussion: """
            Events are partitioned by the month (UTC) of their event time: when the provider says it happened, else when it \
            was received. Partitions are created ahead of need (this month and the next two, by migrate, the receivers every \
            minute and the backfill for the months it imports); an event of a month without one waits in events_default \
            and is moved into its month at the next check. events_legacy holds a log upgraded in place by migration 0011. \
            See `billing-events archive --help` to move old months to files.
            """)

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Count every partition's events exactly (reads each partition) instead of the planner's estimate.")
    var exact = false

    func run() async throws {
        try await reportingErrors {
            try await withPool(database) { pool in
                let partitions = try await pool.perform { [exact] in try EventPartitions.list(exact: exact, on: $0) }
                var table = TextTable(header: ["MONTH", "PARTITION", exact ? "EVENTS" : "EVENTS (EST.)", "SIZE", "ARCHIVED", "FILE", "RESTORED"])
                for partition in partitions {
                    table.rows.append([
                        partition.month.map { String($0.formatted(.iso8601.year().month())) } ?? "-", partition.table ?? "(archived)",
                        partition.table == nil ? (partition.archivedEvents.map { "\($0)" } ?? "-") : "\(partition.events)",
                        ByteCountFormatter.string(fromByteCount: partition.bytes, countStyle: .binary),
                        partition.archivedAt.map { $0.formatted(.iso8601) } ?? "-", partition.archiveFile ?? "-",
                        partition.restoredAt.map { $0.formatted(.iso8601) } ?? "-",
                    ])
                }
                print(table.render())
            }
        }
    }
}

/// `billing-events archive`: writes whole old months to files and drops their partitions.
struct Archive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write every whole month before --before to a verified gzip file each, then drop its partition.",
        discussion: """
            For each month (oldest first), in one transaction: the partition is locked against writes, every event is \
            written exactly (raw body bytes, signature headers, ids, positions, channel, source) in PostgreSQL's COPY \
            text format, the read models of all archived events (the archive snapshot) are updated and written too, the \
            file is re-read and its SHA-256 checked, and only then is the partition dropped. Event keys stay, so a \
            redelivery of an archived event is still a duplicate; `projections rebuild` starts from the snapshot. \
            Refused, with nothing archived, when a month is not over for --quiet-hours, received an event within them, \
            or holds events the projections have not applied. events_legacy (a log upgraded in place) is not archived. \
            Files are named billing-events-YYYY-MM.tsv.gz; `billing-events restore FILE…` brings months back.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Archive the months before this one (YYYY-MM, UTC).")
    var before: String

    @Option(help: "Directory for the archive files (created if missing).")
    var output = "."

    @Option(help: "Hours a month must be over, and without newly received events, before it is archived.")
    var quietHours = 24

    func validate() throws {
        guard EventArchiver.firstDay(ofMonth: before) != nil else { throw ValidationError("--before takes a month as YYYY-MM, not \(before)") }
        guard quietHours >= 0 else { throw ValidationError("--quiet-hours cannot be negative") }
    }

    func run() async throws {
        try await reportingErrors {
            let configuration = try await database.resolve(logger: makeLogger(), sessionWork: "archive")
            let archiver = EventArchiver(configuration: configuration, logger: makeLogger())
            let archived = try await archiver.archive(
                before: EventArchiver.firstDay(ofMonth: before)!, into: output, quietPeriod: .seconds(quietHours * 3600))
            guard !archived.isEmpty else { return print("no month before \(before) to archive") }
            for month in archived {
                print(
                    "archived \(month.month): \(month.events) events, \(month.bytes) bytes, sha256 \(month.sha256), \(month.file) "
                        + "(\(month.elapsed.formatted(.units(allowed: [.seconds, .milliseconds]))))")
            }
        }
    }
}

/// `billing-events restore`: brings archived months back into the log.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring archived months back into the log from their files, byte-identical, with the same ids and positions.",
        discussion: """
            Each file is read whole and its checksum verified before anything is written. Events already in the log are \
            left alone, so restoring twice changes nothing. The read models are not changed (they already hold the \
            archived events), and restored events keep being left out of `projections rebuild`, which takes them from the \
            archive snapshot.
            """)

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "Archive files written by billing-events archive.")
    var files: [String]

    func run() async throws {
        try await reportingErrors {
            let configuration = try await database.resolve(logger: makeLogger(), sessionWork: "restore")
            let restored = try await EventArchiver(configuration: configuration, logger: makeLogger()).restore(files)
            for month in restored {
                print(
                    "restored \(month.month): \(month.inserted) of \(month.events) events put back"
                        + (month.inserted < month.events ? " (\(month.events - month.inserted) were in the log already)" : ""))
            }
        }
    }
}
