import Foundation
import Postgres

/// The gauges of `/metrics` that describe shared state rather than this process's work: read from
/// the database at each scrape (one statement, bounded by a timeout) and from the pools. When the
/// database does not answer, `billing_events_database_up` is 0 and the database gauges keep their
/// last values. With a replica, its lag behind the primary too.
public struct OperationsProbe: Sendable {
    /// The primary database's pool.
    public var pool: PostgresPool
    /// The query API's pool when it reads from a replica (`READ_DATABASE_URL`).
    public var readPool: PostgresPool?
    /// The receiver, for the delivery-log rows it holds in memory.
    public var ingestor: EventIngestor?
    /// Where the readings go.
    public var metrics: StoreMetrics
    /// Longest wait for the database's answer.
    public var timeout: Duration

    /// Creates a probe.
    public init(
        pool: PostgresPool, readPool: PostgresPool? = nil, ingestor: EventIngestor? = nil, metrics: StoreMetrics,
        timeout: Duration = .seconds(2)
    ) {
        self.pool = pool
        self.readPool = readPool
        self.ingestor = ingestor
        self.metrics = metrics
        self.timeout = timeout
    }

    /// The values shared by every projection. The oldest open transaction is the oldest one
    /// holding a transaction id (a writer, or a prepared transaction): it is what keeps the
    /// projector's snapshot horizon back.
    static let sharedSQL: PostgresQuery = """
        SELECT (SELECT count(*) FROM billing.quarantine WHERE resolved_at IS NULL),
               COALESCE((SELECT max(position) FROM billing.events), 0),
               COALESCE((SELECT (EXTRACT(EPOCH FROM now() - min(started)) * 1000)::int8 FROM (
                   SELECT xact_start AS started FROM pg_stat_activity WHERE backend_xid IS NOT NULL
                   UNION ALL SELECT prepared FROM pg_prepared_xacts) open), 0)
        """

    /// Reads the database and the pools and records the gauges.
    public func refresh() async {
        await record(pool, "primary")
        if let readPool {
            await record(readPool, "read")
            let pool = pool
            if let lag = await within(timeout, { try? await ReplicaLag.measure(primary: pool, replica: readPool) }) {
                metrics.gauge("billing_events_replica_lag_bytes", [], Double(lag.bytes))
                metrics.gauge("billing_events_replica_lag_seconds", [], lag.seconds)
            }
        }
        if let ingestor {
            metrics.gauge("billing_events_delivery_log_buffered", [], Double(await ingestor.bufferedRecords))
        }
        let up = await readDatabase()
        metrics.gauge("billing_events_database_up", [], up ? 1 : 0)
    }

    private func record(_ pool: PostgresPool, _ name: String) async {
        let statistics = await pool.statistics
        metrics.gauge("billing_events_db_pool_connections", [("pool", name), ("state", "in_use")], Double(statistics.inUse))
        metrics.gauge("billing_events_db_pool_connections", [("pool", name), ("state", "idle")], Double(statistics.idle))
        metrics.gauge("billing_events_db_pool_waiting", [("pool", name)], Double(statistics.waiting))
        metrics.gauge("billing_events_db_pool_max", [("pool", name)], Double(pool.options.maxConnections))
    }

    private func readDatabase() async -> Bool {
        let pool = pool
        let readings = await within(timeout) { () -> (shared: PostgresRow, projections: [ProjectionStatus])? in
            guard let shared = try? await pool.query(Self.sharedSQL).rows.first,
                let projections = try? await ProjectionStatus.load(on: pool)
            else { return nil }
            return (shared, projections)
        }
        guard let readings, let (quarantine, position, oldest) = try? readings.shared.decode((Int64, Int64, Int64).self) else { return false }
        metrics.gauge("billing_events_quarantine_open", [], Double(quarantine))
        metrics.gauge("billing_events_log_position", [], Double(position))
        metrics.gauge("billing_events_oldest_transaction_seconds", [], max(0, Double(oldest) / 1000))
        for status in readings.projections {
            let labels = [("projection", status.projection.name)]
            metrics.gauge("billing_events_projection_lag_events", labels, Double(status.eventsBehind))
            metrics.gauge("billing_events_projection_lag_seconds", labels, status.secondsBehind)
            metrics.gauge("billing_events_projection_dead_letters", labels, Double(status.deadLetters))
        }
        return true
    }
}
