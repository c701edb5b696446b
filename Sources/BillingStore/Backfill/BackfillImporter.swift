import BillingCore
import Foundation
import Logging
import Postgres

/// How `billing-events backfill` imports its files.
public struct BackfillOptions: Sendable {
    /// Whose export the files are.
    public var provider: Provider
    /// The environment the operator named; nil imports as `live` and lets bodies that carry their
    /// own environment (MintCash) keep it.
    public var environment: ProviderEnvironment?
    /// Set for Flexprice entity snapshot files.
    public var entity: BackfillEntity?
    /// The layout; nil lets the file name and content decide.
    public var format: BackfillFormat?
    /// Records per batch (one transaction each).
    public var batchSize = 2_000
    /// Batches decoded at once (parsing runs on every core).
    public var workers = max(2, ProcessInfo.processInfo.activeProcessorCount)
    /// Validate only: nothing is written to the database or to disk.
    public var dryRun = false
    /// Import a file again from its start even if its checkpoint says it is done.
    public var restart = false

    /// Options for `provider`.
    public init(provider: Provider) {
        self.provider = provider
    }
}

/// How far an import has come, for the progress display.
public struct BackfillProgress: Sendable {
    /// The file.
    public var path: String
    /// Bytes of the file read (compressed, for gzip).
    public var fileBytesRead: Int64
    /// The file's size.
    public var fileSize: Int64
    /// Records handled in this run.
    public var records: Int64
    /// Records an earlier, interrupted run had committed (this run read past them): the whole
    /// file's count so far is `resumedRecords + records`, which is what the byte position measures.
    public var resumedRecords: Int64 = 0
    /// Time since this run started on the file.
    public var elapsed: Duration
}

/// The outcome of one file.
public struct BackfillFileReport: Sendable {
    /// The file.
    public var path: String
    /// Counts over every run of this file (a resumed run includes what earlier runs committed).
    public var counts: BackfillCounts
    /// Records this run handled.
    public var recordsThisRun: Int64
    /// Records an earlier, interrupted run had committed (skipped by this one).
    public var resumedAt: Int64
    /// True when an earlier run had already imported the whole file (nothing was done).
    public var alreadyComplete: Bool
    /// This run's time on the file.
    public var elapsed: Duration
    /// The rejects file, only when it exists and holds rejects (nil in a dry run, or when the
    /// operator removed it since).
    public var rejectsPath: String?
    /// The first rejected records (a dry run shows them instead of writing a file).
    public var sampleRejects: [BackfillReject]
}

/// Imports provider exports into the log: streams each file, decodes batches on every core,
/// COPYs each batch into a staging table and merges it with `ON CONFLICT DO NOTHING`, committing
/// the file's checkpoint in the same transaction. Reading, decoding and writing overlap: while
/// one batch is written, the next ones are read and decoded.
public struct BackfillImporter: Sendable {
    private let configuration: PostgresConfiguration?
    private let options: BackfillOptions
    private let logger: Logger

    /// An importer writing through `configuration` (nil only for a dry run).
    public init(configuration: PostgresConfiguration?, options: BackfillOptions, logger: Logger) {
        self.configuration = configuration
        self.options = options
        self.logger = logger
    }

    /// Imports `path`; `progress` is called after every batch.
    public func importFile(_ path: String, progress: (BackfillProgress) -> Void = { _ in }) async throws -> BackfillFileReport {
        guard !options.dryRun else { return try await self.run(path, connection: nil, progress: progress) }
        guard let configuration else { throw BackfillError("no database to import into") }
        return try await PostgresConnection.withConnection(configuration, logger: logger) { connection in
            let run = RunHandle()
            do {
                return try await self.run(path, connection: connection, runHandle: run, progress: progress)
            } catch {
                if let id = run.id {
                    try? await connection.perform { connection in try BackfillCheckpoint.fail(run: id, on: connection) }
                }
                throw error
            }
        }
    }

    /// The run row of an import, known once its checkpoint is open.
    private final class RunHandle: @unchecked Sendable {
        var id: Int64?
    }

    /// `path` when it exists and is not empty: a summary never names a file that is not there.
    private static func existingRejects(_ path: String) -> String? {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return size > 0 ? path : nil
    }

    private func run(
        _ path: String, connection: PostgresConnection?, runHandle: RunHandle? = nil, progress: (BackfillProgress) -> Void
    ) async throws -> BackfillFileReport {
        let started = ContinuousClock.now
        let absolutePath = URL(fileURLWithPath: path).standardizedFileURL.path
        let rejectsPath = path + ".rejects.ndjson"
        let files = BlockingExecutor(name: "backfill-files")
        let hash = try await files.run { try BackfillReader.contentHash(path: absolutePath) }
        let format = options.format ?? BackfillFormat.named(byPath: path)
        var checkpoint = BackfillCheckpoint(
            id: 0, batchSize: options.batchSize, recordsDone: 0, counts: BackfillCounts(), rejectsBytes: 0)
        if let connection {
            checkpoint = try await open(absolutePath, hash: hash, format: format, on: connection)
            runHandle?.id = checkpoint.runID
            if checkpoint.completedAt != nil {
                return BackfillFileReport(
                    path: path, counts: checkpoint.counts, recordsThisRun: 0, resumedAt: checkpoint.recordsDone, alreadyComplete: true,
                    elapsed: .zero, rejectsPath: checkpoint.counts.rejected > 0 ? Self.existingRejects(rejectsPath) : nil, sampleRejects: [])
            }
        }
        let start = checkpoint
        let (reader, header, fileSize) = try await files.run {
            let reader = try BackfillReader(path: absolutePath, format: format, batchSize: start.batchSize, skipRecords: start.recordsDone)
            return (UncheckedBox(reader), reader.csvHeader, reader.fileSize)
        }
        let rejects = try connection.map { _ in UncheckedBox(try BackfillRejectsFile(path: rejectsPath, committedBytes: start.rejectsBytes)) }
        defer { rejects?.value.close() }
        let decoder = BackfillDecoder(
            provider: options.provider, environment: options.environment ?? .live, environmentIsExplicit: options.environment != nil,
            entity: options.entity, file: absolutePath, receivedAt: Date(), csvHeader: header)

        var counts = checkpoint.counts
        var sample: [BackfillReject] = []
        var recordsThisRun: Int64 = 0
        var decoding: [Task<BackfillStagedBatch, Never>] = []
        var writing: Task<BackfillCounts, any Error>?
        var endOfFile = false
        // A file broken part-way (a JSON array never closed, corrupt gzip) still gets every batch
        // before the break committed; the error is raised after them.
        var readFailure: (any Error)?
        defer {
            for task in decoding { task.cancel() }
            writing?.cancel()
        }
        while true {
            while !endOfFile, decoding.count < options.workers + 1 {
                do {
                    guard let raw = try await files.run({ try reader.value.next() }) else {
                        endOfFile = true
                        break
                    }
                    decoding.append(Task { BackfillStaging.encode(raw, decoder: decoder) })
                } catch {
                    readFailure = error
                    endOfFile = true
                }
            }
            guard !decoding.isEmpty else { break }
            let staged = await decoding.removeFirst().value
            if let writing { counts.add(try await writing.value) }
            writing = nil
            sample += staged.rejects.prefix(max(0, 20 - sample.count))
            recordsThisRun += staged.read
            if let connection, let rejects {
                // The rejects are durable before the batch that counts them commits.
                let rejectsBytes = try await files.run {
                    try rejects.value.append(staged.rejects)
                    return rejects.value.size
                }
                let (id, run, from) = (checkpoint.id, checkpoint.runID, checkpoint.recordsDone)
                writing = Task {
                    try await Self.write(staged, checkpoint: id, run: run, from: from, rejectsBytes: rejectsBytes, on: connection)
                }
            } else {
                counts.add(BackfillCounts(read: staged.read, inserted: 0, duplicates: 0, snapshots: 0, rejected: Int64(staged.rejects.count)))
            }
            checkpoint.recordsDone = staged.recordsEnd
            progress(
                BackfillProgress(
                    path: path, fileBytesRead: staged.fileBytesRead, fileSize: fileSize, records: recordsThisRun,
                    resumedRecords: start.recordsDone, elapsed: ContinuousClock.now - started))
        }
        if let writing { counts.add(try await writing.value) }
        if let readFailure { throw readFailure }
        if let connection {
            let (id, run) = (checkpoint.id, checkpoint.runID)
            try await connection.perform { connection in try BackfillCheckpoint.complete(id: id, run: run, on: connection) }
        }
        rejects?.value.close()
        return BackfillFileReport(
            path: path, counts: counts, recordsThisRun: recordsThisRun, resumedAt: start.recordsDone, alreadyComplete: false,
            elapsed: ContinuousClock.now - started,
            rejectsPath: counts.rejected > 0 && connection != nil ? Self.existingRejects(rejectsPath) : nil, sampleRejects: sample)
    }

    /// Finds or creates the file's checkpoint (locked for this run) and prepares the staging table.
    private func open(_ path: String, hash: [UInt8], format: BackfillFormat?, on connection: PostgresConnection) async throws -> BackfillCheckpoint {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        let identity = BackfillCheckpoint.Identity(
            contentSHA256: hash, provider: options.provider.rawValue, environment: (options.environment ?? .live).rawValue,
            entity: options.entity?.rawValue ?? "", path: path, format: format?.rawValue ?? "auto", sizeBytes: size,
            batchSize: options.batchSize)
        let restart = options.restart
        return try await connection.perform { connection in
            let checkpoint = try BackfillCheckpoint.open(identity, restart: restart, on: connection)
            if checkpoint.completedAt == nil { try BackfillStaging.prepare(on: connection) }
            return checkpoint
        }
    }

    /// Writes one batch and its checkpoint in one transaction (retried when it deadlocks with a
    /// concurrent writer); returns what it counted.
    private static func write(
        _ staged: BackfillStagedBatch, checkpoint id: Int64, run: Int64, from: Int64, rejectsBytes: Int64, on connection: PostgresConnection
    ) async throws -> BackfillCounts {
        try await connection.perform { connection in
            // Its own transaction, before the batch's: history lands in its months' partitions.
            // A month that cannot be created now (a long query holds the default partition) is
            // created by the receivers later; its events wait in the default partition meanwhile.
            do {
                try EventPartitions.ensure(monthsOf: staged.months, on: connection)
            } catch  where EventPartitions.gaveUp(error) {}
            return try connection.transaction(retryingConflicts: 5) {
                let (inserted, snapshots) = try BackfillStaging.merge(staged, on: connection)
                let counts = Self.counts(of: staged, inserted: inserted, snapshots: snapshots)
                try BackfillCheckpoint.advance(
                    id: id, run: run, from: from, to: staged.recordsEnd, lastLine: staged.lastLine, counts: counts,
                    rejectsBytes: rejectsBytes, on: connection)
                return counts
            }
        }
    }

    private static func counts(of staged: BackfillStagedBatch, inserted: Int64, snapshots: Int64) -> BackfillCounts {
        BackfillCounts(
            read: staged.read, inserted: inserted, duplicates: staged.rows - inserted, snapshots: snapshots,
            rejected: Int64(staged.rejects.count))
    }
}

/// Carries a value that is only ever used on one ``BlockingExecutor`` across tasks.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
