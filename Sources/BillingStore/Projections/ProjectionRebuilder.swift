import BillingCore
import Foundation
import Logging
import Postgres

/// Replays the log into fresh copies of a projection's tables (session-private temporary
/// tables, so a crashed rebuild leaves nothing behind), then swaps them in with one transaction
/// that also moves the checkpoint: readers see the old rows until the commit and the new ones
/// after, and the live runner (paused by the batch lock during the swap) continues from there.
/// When months were archived, the copies start from the archive snapshot (the read models of
/// every archived event) and the replay leaves those events out, restored ones included.
public enum ProjectionRebuilder {
    /// What a rebuild did.
    public struct Report: Sendable {
        /// The projection.
        public var projection: Projection
        /// Events folded.
        public var applied: Int
        /// Events parked as dead letters.
        public var deadLetters: Int
        /// The checkpoint swapped in.
        public var checkpoint: LogCheckpoint
        /// Wall time.
        public var elapsed: Duration
    }

    /// Rebuilds `projection`; `batchSize` events per read.
    public static func rebuild(
        _ projection: Projection, configuration: PostgresConfiguration, batchSize: Int = 5000, logger: Logger
    ) async throws -> Report {
        let started = ContinuousClock.now
        var report = try await PostgresConnection.withConnection(configuration, logger: logger) { connection in
            try await connection.perform { connection in try rebuild(projection, batchSize: batchSize, on: connection) }
        }
        report.elapsed = ContinuousClock.now - started
        return report
    }

    private static func rebuild(_ projection: Projection, batchSize: Int, on connection: isolated PostgresConnection) throws -> Report {
        try connection.execute("SELECT pg_advisory_lock_shared(\(ArchiveSnapshot.lockKey))")
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock_shared(\(ArchiveSnapshot.lockKey))") }
        try createScratchTables(projection.tables, on: connection)
        try ArchiveSnapshot.seed(projection.tables, on: connection)
        var report = Report(projection: projection, applied: 0, deadLetters: 0, checkpoint: .start, elapsed: .zero)
        let filter = try ArchiveSnapshot.notCovered(on: connection)
        try catchUp(&report, batchSize: batchSize, inTransaction: false, filter: filter, on: connection)
        try connection.transaction {
            try ProjectionRunner.lockBatches(of: projection, on: connection)
            try catchUp(&report, batchSize: batchSize, inTransaction: true, filter: filter, on: connection)
            for table in scratchTables(projection.tables) where table != "projection_dead_letters" {
                try connection.execute("DELETE FROM billing.\(identifier: table)")
                try connection.execute("INSERT INTO billing.\(identifier: table) SELECT * FROM pg_temp.\(identifier: table)")
            }
            try connection.execute("DELETE FROM billing.projection_dead_letters WHERE projection = \(projection.name)")
            try connection.execute("INSERT INTO billing.projection_dead_letters SELECT * FROM pg_temp.projection_dead_letters")
            try connection.execute(
                """
                INSERT INTO billing.projection_checkpoints AS c (name, transaction_id, position, events_applied, owner, updated_at, rebuilt_at)
                VALUES (\(projection.name), \(String(report.checkpoint.transactionID))::xid8, \(report.checkpoint.position),
                        \(report.applied), 'rebuild', now(), now())
                ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, position = excluded.position,
                    events_applied = excluded.events_applied, owner = excluded.owner, updated_at = now(), rebuilt_at = now()
                """)
        }
        for table in scratchTables(projection.tables) {
            try connection.execute("DROP TABLE pg_temp.\(identifier: table)")
        }
        return report
    }

    /// The tables a rebuild of `tables` refills: the read models, their version logs and the dead letters.
    static func scratchTables(_ tables: [ReadModelTable]) -> [String] {
        tables.map(\.rawValue) + tables.compactMap(\.versionTable) + ["projection_dead_letters"]
    }

    /// Session-private empty copies of `tables`, their version logs and the dead letters, in `pg_temp`.
    static func createScratchTables(_ tables: [ReadModelTable], on connection: isolated PostgresConnection) throws {
        for table in scratchTables(tables) {
            try connection.execute("DROP TABLE IF EXISTS pg_temp.\(identifier: table)")
            try connection.execute("CREATE TEMP TABLE \(identifier: table) (LIKE billing.\(identifier: table) INCLUDING ALL)")
        }
    }

    /// Applies batches of the events `filter` selects until the log below the horizon is
    /// exhausted. Rebuilds do not retry: the fold is deterministic, so a failing event is parked
    /// at once (as the live runner would after its retries).
    static func catchUp(
        _ report: inout Report, batchSize: Int, inTransaction: Bool, filter: PostgresQuery, on connection: isolated PostgresConnection
    ) throws {
        let policy = ProjectionBatch.Policy(maxAttempts: 1)
        var singleSteps = 0
        while true {
            let limit = singleSteps > 0 ? 1 : batchSize
            let checkpoint = report.checkpoint
            let projection = report.projection
            let run = { () throws -> ProjectionBatchResult in
                try ProjectionBatch.run(
                    projection, after: checkpoint, limit: limit, schema: "pg_temp", policy: policy, filter: filter, on: connection)
            }
            let result = inTransaction ? try run() : try connection.transaction(run)
            singleSteps = result.split ? batchSize : max(0, singleSteps - 1)
            report.applied += result.applied.count
            report.deadLetters += result.parked.count
            report.checkpoint = result.checkpoint
            if result.exhausted, !result.split { return }
        }
    }
}
