import Foundation
import Postgres

/// The checkpoint row of one imported file (`billing.backfill_files`): how far committed batches
/// reached and what they counted. Every function runs on the importer's own connection.
struct BackfillCheckpoint: Sendable {
    /// The row's id.
    var id: Int64
    /// The batch size the file was started with (a resumed run must cut the same batches).
    var batchSize: Int
    /// Records committed so far.
    var recordsDone: Int64
    /// Counts committed so far.
    var counts: BackfillCounts
    /// Length of the rejects file that belongs to committed batches.
    var rejectsBytes: Int64
    /// When the file was imported to its end, if it was.
    var completedAt: Date?
    /// This run's row in `billing.backfill_runs` (0 in a dry run).
    var runID: Int64 = 0

    /// What identifies an import: the file's content and what it is imported as.
    struct Identity: Sendable {
        var contentSHA256: [UInt8]
        var provider: String
        var environment: String
        var entity: String
        var path: String
        var format: String
        var sizeBytes: Int64
        var batchSize: Int
    }

    /// Finds or creates the checkpoint and holds it for this session (a second run of the same
    /// import fails at once instead of racing this one; the lock goes with the connection, so a
    /// killed run frees it); `restart` sets an existing checkpoint back to the start.
    static func open(_ identity: Identity, restart: Bool, on connection: isolated PostgresConnection) throws -> BackfillCheckpoint {
        let result = try connection.execute(
            """
            INSERT INTO billing.backfill_files (content_sha256, provider, environment, entity, path, format, size_bytes, batch_size)
            VALUES (\(Data(identity.contentSHA256)), \(identity.provider), \(identity.environment), \(identity.entity),
                \(identity.path), \(identity.format), \(identity.sizeBytes), \(identity.batchSize))
            ON CONFLICT (content_sha256, provider, environment, entity) DO UPDATE
                SET path = excluded.path, runs = backfill_files.runs + 1, updated_at = now()
            RETURNING id
            """)
        let id = try result.rows[0].decode(Int64.self, at: 0)
        let locked = try connection.execute("SELECT pg_try_advisory_lock(\(Self.lockSpace), \(Int32(truncatingIfNeeded: id)))")
        guard try locked.rows[0].decode(Bool.self, at: 0) else {
            throw BackfillError("\(identity.path): another backfill of this file is running; this one did nothing", code: .concurrentRun)
        }
        if restart {
            _ = try connection.execute(
                """
                UPDATE billing.backfill_files
                SET records_done = 0, last_line = 0, inserted = 0, duplicates = 0, snapshots = 0, rejected = 0,
                    rejects_bytes = 0, completed_at = NULL, batch_size = \(identity.batchSize), format = \(identity.format),
                    started_at = now()
                WHERE id = \(id)
                """)
        }
        var checkpoint = try load(id: id, on: connection)
        // This run holds the file's lock, so a run still marked running was killed.
        _ = try connection.execute(
            """
            UPDATE billing.backfill_runs SET outcome = 'interrupted', finished_at = updated_at
            WHERE file_id = \(id) AND outcome = 'running'
            """)
        checkpoint.runID = try connection.execute(
            """
            INSERT INTO billing.backfill_runs (file_id, path, restart, resumed_at, outcome, finished_at)
            VALUES (\(id), \(identity.path), \(restart), \(checkpoint.recordsDone),
                CASE WHEN \(checkpoint.completedAt != nil) THEN 'already_imported' ELSE 'running' END,
                CASE WHEN \(checkpoint.completedAt != nil) THEN now() END)
            RETURNING id
            """
        ).rows[0].decode(Int64.self, at: 0)
        return checkpoint
    }

    /// Reads the checkpoint `id`.
    static func load(id: Int64, on connection: isolated PostgresConnection) throws -> BackfillCheckpoint {
        let row = try connection.execute(
            """
            SELECT id, batch_size, records_done, inserted, duplicates, snapshots, rejected, rejects_bytes, completed_at
            FROM billing.backfill_files WHERE id = \(id)
            """
        ).rows[0]
        let (id, batchSize, recordsDone, inserted, duplicates, snapshots, rejected, rejectsBytes, completedAt) =
            try row.decode((Int64, Int, Int64, Int64, Int64, Int64, Int64, Int64, Date?).self)
        return BackfillCheckpoint(
            id: id, batchSize: batchSize, recordsDone: recordsDone,
            counts: BackfillCounts(
                read: recordsDone, inserted: inserted, duplicates: duplicates, snapshots: snapshots, rejected: rejected),
            rejectsBytes: rejectsBytes, completedAt: completedAt)
    }

    /// Advances the checkpoint by one batch, inside the batch's transaction. The guard on
    /// `records_done` makes a batch count once even if two runs raced past the lock.
    static func advance(
        id: Int64, run: Int64, from recordsDone: Int64, to end: Int64, lastLine: Int, counts: BackfillCounts, rejectsBytes: Int64,
        on connection: isolated PostgresConnection
    ) throws {
        let result = try connection.execute(
            """
            UPDATE billing.backfill_files
            SET records_done = \(end), last_line = \(Int64(lastLine)), inserted = inserted + \(counts.inserted),
                duplicates = duplicates + \(counts.duplicates), snapshots = snapshots + \(counts.snapshots),
                rejected = rejected + \(counts.rejected), rejects_bytes = \(rejectsBytes), updated_at = now()
            WHERE id = \(id) AND records_done = \(recordsDone)
            """)
        guard result.affectedRows == 1 else {
            throw BackfillError("the checkpoint moved under this run: another backfill of the same file is running", code: .concurrentRun)
        }
        _ = try connection.execute(
            """
            UPDATE billing.backfill_runs
            SET records = records + \(counts.read), inserted = inserted + \(counts.inserted),
                duplicates = duplicates + \(counts.duplicates), snapshots = snapshots + \(counts.snapshots),
                rejected = rejected + \(counts.rejected), updated_at = now()
            WHERE id = \(run)
            """)
    }

    /// Marks the file imported to its end, and this run completed, in one transaction.
    static func complete(id: Int64, run: Int64, on connection: isolated PostgresConnection) throws {
        try connection.transaction {
            _ = try connection.execute("UPDATE billing.backfill_files SET completed_at = now(), updated_at = now() WHERE id = \(id)")
            _ = try connection.execute(
                "UPDATE billing.backfill_runs SET outcome = 'completed', finished_at = now(), updated_at = now() WHERE id = \(run)")
        }
    }

    /// Marks this run as ended by an error (best effort: the connection may be what failed).
    static func fail(run: Int64, on connection: isolated PostgresConnection) throws {
        _ = try connection.execute(
            "UPDATE billing.backfill_runs SET outcome = 'failed', finished_at = now(), updated_at = now() WHERE id = \(run) AND outcome = 'running'")
    }

    /// The first key of the advisory locks held by backfill runs.
    static let lockSpace: Int32 = 0x6266_696C  // "bfil"
}

/// What an import counted: records read, events inserted (snapshots among them), records that were
/// already in the log, records rejected.
public struct BackfillCounts: Sendable, Equatable {
    /// Records read (CSV header not counted), rejected ones included.
    public var read: Int64 = 0
    /// Events added to the log.
    public var inserted: Int64 = 0
    /// Valid records the log already held (from webhooks, an earlier import, or earlier in the file).
    public var duplicates: Int64 = 0
    /// Snapshot events among `inserted`.
    public var snapshots: Int64 = 0
    /// Records written to the rejects file.
    public var rejected: Int64 = 0

    /// Zero counts.
    public init() {}

    /// Given counts.
    public init(read: Int64, inserted: Int64, duplicates: Int64, snapshots: Int64, rejected: Int64) {
        self.read = read
        self.inserted = inserted
        self.duplicates = duplicates
        self.snapshots = snapshots
        self.rejected = rejected
    }

    /// Adds `other` to these counts.
    public mutating func add(_ other: BackfillCounts) {
        read += other.read
        inserted += other.inserted
        duplicates += other.duplicates
        snapshots += other.snapshots
        rejected += other.rejected
    }
}
