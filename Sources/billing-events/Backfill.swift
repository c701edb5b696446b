import ArgumentParser
import BillingCore
import BillingStore
import Foundation

/// `billing-events backfill`: imports provider exports into the event log.
struct Backfill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import provider exports into the event log: idempotent with webhooks, resumable after any interruption.",
        discussion: """
            Each record is a webhook body exactly as the provider sends it, or a wrapper {"id": <delivery id>, "timestamp": ..., "headers": {...}, "body": {...} or "<raw body>"} that keeps the original delivery id (a Flexprice export then meets the live webhook's svix-id). Files are NDJSON, a JSON array, or (with --entity) CSV; any of them gzip-compressed. With --entity, Flexprice list-API rows or CSV records of that entity are stored as snapshot events ordered by their updated_at.

            Events already in the log (from webhooks, earlier imports or earlier in the file) are counted as duplicates and not stored again. Signatures are not checked: the operator vouches for the file. Events are marked channel backfill (snapshot for --entity) with source <file>:<line>.

            Progress is committed per batch with the file's checkpoint (keyed by its SHA-256): after an interruption, even kill -9, the same command continues where it stopped. A completed file is skipped unless --restart is given. Records that cannot be stored go to FILE.rejects.ndjson with their line and reason.

            Progress goes to standard error: the percentage is of the whole file, the record counts and rates are this run's (a resumed run also shows the file's total).

            Exit status: 0 when every record was stored or already present (or the file was already imported: the summary says so), 2 when any record of a file imported now was rejected, 1 on an error (the file's committed batches stay; run the command again to continue).
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Whose export the files are.")
    var provider: Provider

    @Option(help: "Environment of the events. Default: live, or what a MintCash body says.")
    var environment: ProviderEnvironment?

    @Option(help: "Layout (json: one array). Default: from the name (.ndjson, .jsonl, .csv, optionally .gz), else from the first byte.")
    var format: BackfillFormat?

    @Option(help: "Import Flexprice list-API rows or CSV exports of this entity as snapshots.")
    var entity: BackfillEntity?

    @Flag(help: "Validate every record and show the rejects; write nothing (no database, no files).")
    var dryRun = false

    @Flag(help: "Import again from the start files that an earlier run completed (still adds nothing twice).")
    var restart = false

    @Option(help: ArgumentHelp("Records per transaction (kept for a file's whole import).", valueName: "n"))
    var batchSize = 2_000

    @Argument(help: ArgumentHelp("Files to import, in order.", valueName: "file"))
    var files: [String]

    func validate() throws {
        if entity != nil, provider != .flexprice { throw ValidationError("--entity imports Flexprice snapshots; use --provider flexprice") }
        if format == .csv, entity == nil { throw ValidationError("CSV holds entity rows; name the entity with --entity") }
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 100000") }
        for file in files where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("\(file): no such file or not readable")
        }
    }

    func run() async throws {
        var options = BackfillOptions(provider: provider)
        options.environment = environment
        options.entity = entity
        options.format = format
        options.batchSize = batchSize
        options.dryRun = dryRun
        options.restart = restart
        var reports: [BackfillFileReport] = []
        try await reportingErrors {
            reports = try await runBackfill(files: files, options: options, database: dryRun ? nil : database)
        }
        print(BackfillReportFormatter.table(reports, dryRun: dryRun))
        // A file an earlier run already imported is not imported again: nothing was rejected now.
        if reports.contains(where: { !$0.alreadyComplete && $0.counts.rejected > 0 }) { throw ExitCode(2) }
    }
}

extension ProviderEnvironment: ExpressibleByArgument {}
extension BackfillFormat: ExpressibleByArgument {}
extension BackfillEntity: ExpressibleByArgument {}
