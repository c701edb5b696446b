import BillingCore
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// Commits concurrent deliveries together (group commit) and keeps the delivery log.
///
/// A single-row transaction per request is bounded by one WAL flush per row; here every
/// submission that arrives while earlier batches are committing joins the next batch, so under
/// load one transaction (and one flush) carries many events, while an idle receiver still
/// commits a lone delivery at once. A caller is answered only after its batch committed.
public actor EventIngestor: Service {
    /// Tuning.
    public struct Options: Sendable {
        /// Most submissions in one transaction.
        public var maximumBatchSize: Int
        /// Most transactions committing at the same time (each holds a pooled connection).
        public var maximumConcurrentBatches: Int
        /// The delivery log keeps this many newest rows (`DELIVERY_LOG_LIMIT`).
        public var deliveryLogLimit: Int
        /// Delivery-log rows held in memory while the database is away; older ones are dropped.
        public var maximumBufferedRecords: Int

        /// Creates options; the defaults suit a 2–8 core receiver.
        public init(
            maximumBatchSize: Int = 256, maximumConcurrentBatches: Int = 4, deliveryLogLimit: Int = 100_000,
            maximumBufferedRecords: Int = 10_000
        ) {
            self.maximumBatchSize = max(1, maximumBatchSize)
            self.maximumConcurrentBatches = max(1, maximumConcurrentBatches)
            self.deliveryLogLimit = max(1, deliveryLogLimit)
            self.maximumBufferedRecords = max(1, maximumBufferedRecords)
        }
    }

    private struct Pending {
        var submission: IntakeResult
        var record: DeliveryRecord
        var continuation: CheckedContinuation<IngestOutcome, any Error>
    }

    private let pool: PostgresPool
    private let options: Options
    private let logger: Logger
    private var queue: [Pending] = []
    private var records: [DeliveryRecord] = []
    private var droppedRecords = 0
    private var batchesInFlight = 0

    /// Creates an ingestor over `pool`.
    public init(pool: PostgresPool, options: Options = Options(), logger: Logger) {
        self.pool = pool
        self.options = options
        self.logger = logger
    }

    /// Stores a verified delivery and returns once it is committed. `record` is the delivery-log
    /// row for this request; its outcome and ids are filled in and it commits with the event.
    /// Throws ``IngestError`` (`unavailable` when the database cannot be reached).
    public func ingest(_ submission: IntakeResult, record: DeliveryRecord) async throws -> IngestOutcome {
        try await withCheckedThrowingContinuation { continuation in
            queue.append(Pending(submission: submission, record: record, continuation: continuation))
            startBatches()
        }
    }

    /// Adds a delivery-log row for a request that stored nothing (refused, too large, 503…).
    /// Written with the next batch, or within a second; held in memory while the database is away.
    public func log(_ record: DeliveryRecord) {
        records.append(record)
        trimRecords()
    }

    /// Flushes the delivery log every second, prunes it and checks the log's partitions every
    /// minute; on graceful shutdown
    /// (after the HTTP server stopped) writes what is left.
    public nonisolated func run() async throws {
        var tick = 0
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            await flush()
            tick += 1
            if tick % 60 == 1 {
                await prune()
                await maintainPartitions()
            }
        }
        await flush()
    }

    /// Rows of the delivery log not yet written.
    public var bufferedRecords: Int { records.count }

    private func startBatches() {
        while batchesInFlight < options.maximumConcurrentBatches, !queue.isEmpty {
            let count = min(queue.count, options.maximumBatchSize)
            let batch = Array(queue.prefix(count))
            queue.removeFirst(count)
            let pendingRecords = records
            records.removeAll()
            batchesInFlight += 1
            Task { await self.commit(batch, records: pendingRecords) }
        }
    }

    private func commit(_ batch: [Pending], records pendingRecords: [DeliveryRecord]) async {
        let items = batch.map { ($0.submission, $0.record) }
        let results = await Self.write(items, records: pendingRecords, pool: pool, logger: logger)
        var unavailable = false
        for (pending, result) in zip(batch, results.outcomes) {
            switch result {
            case let .success(outcome): pending.continuation.resume(returning: outcome)
            case let .failure(error):
                unavailable = unavailable || error.code == .unavailable
                pending.continuation.resume(throwing: error)
            }
        }
        if !results.recordsWritten { restore(pendingRecords) }
        if unavailable { logger.warning("database unavailable; deliveries answered 503", metadata: ["batch": "\(batch.count)"]) }
        batchesInFlight -= 1
        startBatches()
    }

    /// Writes buffered delivery-log rows now (the run loop does this every second); after a batch
    /// is in flight they go with it instead.
    public func flush() async {
        guard !records.isEmpty, batchesInFlight == 0 else { return }
        let pending = records
        records.removeAll()
        if droppedRecords > 0 {
            logger.warning("delivery log rows dropped while the database was unavailable", metadata: ["dropped": "\(droppedRecords)"])
            droppedRecords = 0
        }
        do {
            try await pool.perform { connection in try EventLog.record(pending, on: connection) }
        } catch {
            restore(pending)
            logger.debug("delivery log not written yet", metadata: ["error": "\(error)"])
        }
    }

    private func restore(_ pending: [DeliveryRecord]) {
        records.insert(contentsOf: pending, at: 0)
        trimRecords()
    }

    private func trimRecords() {
        if records.count > options.maximumBufferedRecords {
            let excess = records.count - options.maximumBufferedRecords
            records.removeFirst(excess)
            droppedRecords += excess
        }
    }

    /// Deletes all but the newest `deliveryLogLimit` delivery-log rows (the run loop does this
    /// every minute); returns how many went.
    @discardableResult
    public func pruneDeliveryLog() async throws -> Int {
        let keep = options.deliveryLogLimit
        return try await pool.perform { connection in try EventLog.pruneDeliveries(keep: keep, on: connection) }
    }

    /// Creates the log partitions of this month and the next two, and drains the default
    /// partition into the partitions of its months (the run loop does this every minute).
    @discardableResult
    public func ensurePartitions() async throws -> Int {
        try await pool.perform { connection in try EventPartitions.ensure(on: connection) }
    }

    private func maintainPartitions() async {
        do {
            let created = try await ensurePartitions()
            if created > 0 { logger.info("created log partitions", metadata: ["created": "\(created)"]) }
        } catch {
            let reason = EventPartitions.gaveUp(error) ? "a long query holds the default partition; trying again in a minute" : "\(error)"
            logger.warning("log partitions not checked", metadata: ["error": "\(reason)"])
        }
    }

    private func prune() async {
        do {
            let removed = try await pruneDeliveryLog()
            if removed > 0 { logger.debug("pruned delivery log", metadata: ["removed": "\(removed)"]) }
        } catch {
            logger.debug("delivery log not pruned", metadata: ["error": "\(error)"])
        }
    }
}
