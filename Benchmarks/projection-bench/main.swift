import BenchSupport
// Projection benchmark on one throwaway server, in one run:
//   1. catch-up: a log of N generated events (default 1,000,000; all three providers) is projected
//      from scratch by all four projections at once, beside the baseline of only reading the same
//      log in commit order (the reader every projection runs, without folding or writing);
//   2. steady state: the projector runs while events are ingested through the receiver's commit
//      path (EventIngestor, durable commits) at a target rate; lag from receipt to projected, p50/p99
//      per projection, beside the ingest acknowledgement latency of the same events.
// Between the two, every example query of docs/analytics.md is timed on the projected history.
// Usage: scripts/bench-projections [events] [load-seconds] [rate]
import BillingCore
import BillingStore
import Foundation
import Logging
import Postgres
import PostgresServer
import Synchronization
import TestSupport

let arguments = CommandLine.arguments.dropFirst().map { Int($0) }
let eventCount = arguments.first.flatMap { $0 } ?? 1_000_000
let loadSeconds = arguments.dropFirst().first.flatMap { $0 } ?? 20
let targetRate = arguments.dropFirst(2).first.flatMap { $0 } ?? 3000
var logger = Logger(label: "bench")
logger.logLevel = .warning

let server = try await BenchServer.start(
    "projection-bench", settings: ["max_connections": "100", "shared_buffers": "'512MB'", "max_wal_size": "'4GB'"], logger: logger)
defer { server.stop() }
let (scratch, cluster, configuration) = (server.scratch, server.cluster, server.configuration)
let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 20), logger: logger)
try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: logger).migrate()

/// Generated deliveries, normalized as the receiver would.
func generate(seed: UInt64, count: Int) throws -> [(NormalizedEvent, IncomingDelivery)] {
    var generator = HistoryGenerator(seed: seed)
    var out: [(NormalizedEvent, IncomingDelivery)] = []
    out.reserveCapacity(count + 64)
    while out.count < count {
        for generated in generator.history(entities: 256) {
            let delivery = IncomingDelivery(
                provider: Provider(rawValue: generated.provider)!, environment: ProviderEnvironment(rawValue: generated.environment)!,
                environmentIsExplicit: generated.provider != "mintcash", body: Array(generated.body.utf8), deliveryID: generated.deliveryID,
                signatureHeaders: ["webhook-signature": "v1,bench"], secretFingerprint: "0123456789ab")
            out.append((try EventNormalizer.normalize(delivery), delivery))
        }
    }
    return Array(out.prefix(count))
}

// 1. Load the log: bulk INSERT … SELECT FROM unnest, 5,000 events per transaction.
print("generating \(eventCount) events…")
var started = ContinuousClock.now
let events = try generate(seed: 1, count: eventCount)
for chunk in stride(from: 0, to: events.count, by: 5000).map({ events[$0..<min($0 + 5000, events.count)] }) {
    try await pool.query(
        """
        INSERT INTO billing.events (position, id, provider, environment, event_type, entity_kind, entity_provider_id, customer_provider_id,
            occurred_at, as_of, amount, currency, dedupe_key, provider_event_id, body_sha256, raw_body, channel, received_at)
        SELECT nextval('billing.event_positions'), id, provider, environment, event_type, entity_kind, entity_id, customer_id, occurred_at, as_of, amount::numeric, currency,
            dedupe_key, provider_event_id, sha256(convert_to(body, 'UTF8')), convert_to(body, 'UTF8'), 'backfill', now()
        FROM unnest(\(chunk.map(\.0.id)), \(chunk.map(\.0.provider.rawValue)), \(chunk.map(\.0.environment.rawValue)),
            \(chunk.map(\.0.eventType)), \(chunk.map(\.0.entityKind.rawValue)), \(chunk.map(\.0.entityID)), \(chunk.map(\.0.customerID)),
            \(chunk.map(\.0.occurredAt)), \(chunk.map(\.0.asOf)), \(chunk.map(\.0.amountText)), \(chunk.map(\.0.currency)),
            \(chunk.map(\.0.dedupeKey)), \(chunk.map(\.0.providerEventID)), \(chunk.map { String(decoding: $0.1.body, as: UTF8.self) }))
            AS u(id, provider, environment, event_type, entity_kind, entity_id, customer_id, occurred_at, as_of, amount, currency,
                 dedupe_key, provider_event_id, body)
        """)
}
try await pool.query("VACUUM ANALYZE billing.events")
let logBytes = try await pool.query("SELECT pg_total_relation_size('billing.events')").decodeColumn(Int64.self)[0]
print(
    String(
        format: "log loaded: %d events, %.0f MiB, %.1f s", events.count, Double(logBytes) / 1_048_576,
        BenchServer.seconds(ContinuousClock.now - started)))

/// Reads the whole log in commit order (what each runner reads), optionally folding every event
/// into read-model writes, without writing: the references for the catch-up figure.
func readLog(fold: Bool) async throws -> (events: Int, writes: Int, seconds: Double) {
    let started = ContinuousClock.now
    let (events, writes) = try await pool.withConnection { connection in
        try await connection.perform { connection in
            var checkpoint = LogCheckpoint.start
            var events = 0
            var writes = 0
            while true {
                let batch = try EventLogReader.read(after: checkpoint, limit: 2000, on: connection)
                guard let last = batch.last else { break }
                events += batch.count
                if fold { for stored in batch { writes += try ReadModelFold.writes(for: stored.event, body: stored.rawBody).count } }
                checkpoint = last.checkpoint
            }
            return (events, writes)
        }
    }
    return (events, writes, BenchServer.seconds(ContinuousClock.now - started))
}
let (readCount, _, readSeconds) = try await readLog(fold: false)
let (_, foldedWrites, foldSeconds) = try await readLog(fold: true)

/// Waits until every checkpoint has reached the newest event (a cheap check, unlike counting the lag).
func waitUntilCaughtUp() async throws {
    while true {
        let behind = try await pool.query(
            """
            SELECT count(*) FROM billing.projection_checkpoints c,
                (SELECT transaction_id, position FROM billing.events ORDER BY transaction_id DESC, position DESC LIMIT 1) e
            WHERE (c.transaction_id, c.position) < (e.transaction_id, e.position)
            """
        ).decodeColumn(Int64.self)[0]
        if behind == 0 { return }
        try await Task.sleep(for: .milliseconds(20))
    }
}

// Catch-up: all four projections from an empty checkpoint.
let lags = Mutex<[String: [Double]]>([:])
let measuring = Atomic<Bool>(false)
let options = ProjectionOptions(
    batchSize: 2000,
    onBatch: { projection, result in
        guard measuring.load(ordering: .relaxed), !result.applied.isEmpty else { return }
        let now = Date()
        lags.withLock { lags in
            lags[projection.name, default: []] += result.applied.map { now.timeIntervalSince($0.receivedAt) }
        }
    })
started = ContinuousClock.now
let projector = Projector(configuration: configuration, options: options, logger: logger)
let projectorTask = Task { try await projector.run() }
try await waitUntilCaughtUp()
let catchUpSeconds = BenchServer.seconds(ContinuousClock.now - started)
let statuses = try await ProjectionStatus.load(on: pool)
print("")
print("catch-up from an empty checkpoint, \(events.count) events, 4 projections in parallel:")
print(String(format: "  baseline: read the log in commit order      %8.0f events/s  (%.1f s)", Double(readCount) / readSeconds, readSeconds))
print(
    String(
        format: "  reference: read and fold, no writes          %8.0f events/s  (%.1f s, %d writes)", Double(readCount) / foldSeconds, foldSeconds,
        foldedWrites))
print(
    String(
        format: "  projected (all projections, wall time)      %8.0f events/s  (%.1f s, %.2fx the read baseline's time)",
        Double(events.count) / catchUpSeconds, catchUpSeconds, catchUpSeconds / readSeconds))
for status in statuses { print("    \(status.projection.name): \(status.eventsApplied) events applied") }
for table in ReadModelTable.allCases {
    let rows = try await pool.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM billing.\(table.rawValue)")).decodeColumn(Int64.self)[0]
    print("    \(table.rawValue): \(rows) rows")
}

// Analysts' queries: every example of docs/analytics.md on this history (first run from a cold
// plan cache, then warm); the goal is 2 s each.
try await pool.query("VACUUM ANALYZE")
func text(_ sql: String) async throws -> String { try await pool.query(PostgresQuery(unsafeSQL: sql)).rows[0].decode(String.self, at: 0) }
let variables = [
    "as_of": try await text("SELECT (min(as_of) + (max(as_of) - min(as_of)) / 2)::text FROM billing.subscription_versions"),
    "customer_id": try await text("SELECT customer_id::text FROM billing.payments WHERE customer_id IS NOT NULL ORDER BY id LIMIT 1"),
    "payment_id": try await text("SELECT payment_id::text FROM billing.refunds WHERE payment_id IS NOT NULL ORDER BY id LIMIT 1"),
]
print("")
print("analytics example queries (docs/analytics.md) on \(events.count) events:")
var slowest = 0.0
for (name, sql) in try AnalyticsExamples.load() {
    let query = PostgresQuery(unsafeSQL: AnalyticsExamples.bind(sql, variables))
    var times: [Double] = []
    var rows = 0
    for _ in 0..<2 {
        let start = ContinuousClock.now
        rows = try await pool.query(query).rows.count
        times.append(BenchServer.seconds(ContinuousClock.now - start))
    }
    slowest = max(slowest, times.max()!)
    let label = "  " + name + String(repeating: " ", count: max(0, 34 - name.count))
    print(label + String(format: " first %7.3f s   again %7.3f s   %7d rows", times[0], times[1], rows))
}
print(String(format: "  slowest: %.3f s (goal: each within 2 s)", slowest))

// 2. Steady state under ingest load.
let ingestor = EventIngestor(pool: pool, logger: logger)
let ingestorTask = Task { try await ingestor.run() }
let load = try generate(seed: 2, count: loadSeconds * targetRate)
let acks = Mutex<[Double]>([])
measuring.store(true, ordering: .relaxed)
let clients = 16
started = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    for client in 0..<clients {
        group.addTask {
            let interval = Duration.seconds(Double(clients) / Double(targetRate))
            var next = ContinuousClock.now
            for index in stride(from: client, to: load.count, by: clients) {
                try await Task.sleep(until: next)
                next += interval
                var delivery = load[index].1
                delivery.receivedAt = Date()
                let record = DeliveryRecord(
                    receivedAt: delivery.receivedAt, provider: delivery.provider.rawValue, environment: delivery.environment.rawValue,
                    outcome: .stored, bodyBytes: delivery.body.count)
                _ = try await ingestor.ingest(.event(load[index].0, delivery), record: record)
                let ack = Date().timeIntervalSince(delivery.receivedAt)
                acks.withLock { $0.append(ack) }
            }
        }
    }
    try await group.waitForAll()
}
let loadElapsed = BenchServer.seconds(ContinuousClock.now - started)
try await waitUntilCaughtUp()
measuring.store(false, ordering: .relaxed)
projectorTask.cancel()
ingestorTask.cancel()
_ = await projectorTask.result
print("")
print(
    String(
        format: "steady state: %d events ingested in %.1f s (%.0f events/s offered at %d/s, %d clients, durable commits)",
        load.count, loadElapsed, Double(load.count) / loadElapsed, targetRate, clients))
let ackTimes = acks.withLock { $0 }
print(
    String(
        format: "  baseline: receipt → ingest acknowledged     p50 %6.1f ms   p99 %6.1f ms",
        BenchServer.percentile(ackTimes, 0.5) * 1000, BenchServer.percentile(ackTimes, 0.99) * 1000))
for (name, values) in lags.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
    print(
        String(
            format: "  lag receipt → projected %-14@ p50 %6.1f ms   p99 %6.1f ms   (%d events)",
            name as NSString, BenchServer.percentile(values, 0.5) * 1000, BenchServer.percentile(values, 0.99) * 1000, values.count))
}
print(String(format: "peak RSS of the benchmark process (generator, projector, ingestor): %.0f MiB", BenchServer.peakRSSMiB()))
await pool.close()
