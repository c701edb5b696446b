import BenchSupport
// Query API benchmark on one throwaway server, in one run: 1,000,000 payments (with 100,000
// refunds) behind the real HTTP stack (`BillingService.application`, the function `serve`
// uses), driven by wrk at 16 connections, beside pgbench running the very SQL the API sends
// (QueryStore.listQuery, values inlined) with 16 clients:
//   - a filtered list page (provider + status), first page and a page 90% deep (via a signed cursor),
//     and the unfiltered list's first page;
//   - req/s, p50/p99 latency of each; deep/first latency ratio; API/pgbench rate ratio; peak RSS.
// The API's pool holds 4 connections by default (2 per core here): 16 busy backends on 2 cores left
// some runnable for 100-250 ms while the server's short-lived threads ran (perf sched), which is
// the p99 tail of a pool of 16; with 4 the waiting happens first-come-first-served in the pool.
// Usage: scripts/bench-query [payments] [seconds-per-run] [api-pool-size]
import BillingCore
import BillingHTTP
import BillingService
import BillingStore
import Foundation
import Hummingbird
import Logging
import Postgres
import PostgresServer

let arguments = CommandLine.arguments.dropFirst().map { Int($0) }
let paymentCount = arguments.first.flatMap { $0 } ?? 1_000_000
let seconds = arguments.dropFirst().first.flatMap { $0 } ?? 10
let clients = 16
let poolSize = arguments.dropFirst(2).first.flatMap { $0 } ?? 4
var logger = Logger(label: "bench")
logger.logLevel = .warning

let postgres = try await BenchServer.start(
    "query-bench", settings: ["max_connections": "100", "shared_buffers": "'512MB'", "max_wal_size": "'4GB'"], logger: logger)
defer { postgres.stop() }
let (scratch, cluster, configuration) = (postgres.scratch, postgres.cluster, postgres.configuration)
let pgArguments = postgres.clientArguments

let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: poolSize), logger: logger)
try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: logger).migrate()

print("seeding \(paymentCount) payments…")
var started = ContinuousClock.now
try await pool.query(
    PostgresQuery(
        unsafeSQL: """
            INSERT INTO billing.payments (id, provider, environment, provider_id, external_id, customer_id, customer_provider_id, status,
                provider_status, amount, currency, amount_refunded, amount_refundable, card_brand, card_last4, payment_method_type,
                succeeded_at, first_seen_at, updated_at, created_at, details_as_of, details_rank, details_event_id)
            SELECT billing.read_model_id('payments', p.provider, 'live', 'pay_' || g), p.provider, 'live', 'pay_' || g, 'order_' || g,
                billing.read_model_id('customers', p.provider, 'live', 'cust_' || (g % 50000)), 'cust_' || (g % 50000), s.status, s.status,
                (g % 10000) / 100.0 + 1, 'USD', 0, (g % 10000) / 100.0 + 1, 'visa', '4242', 'card',
                t.ts, t.ts, t.ts, t.ts, t.ts, 4, gen_random_uuid()
            FROM generate_series(1, \(paymentCount)) AS g,
                LATERAL (SELECT (ARRAY['mintcash', 'flexprice'])[1 + g % 2] AS provider) AS p,
                LATERAL (SELECT (ARRAY['succeeded', 'succeeded', 'succeeded', 'failed', 'pending', 'refunded'])[1 + (g / 2) % 6] AS status) AS s,
                LATERAL (SELECT timestamptz '2025-01-01' + g * interval '30 seconds' AS ts) AS t
            """))
try await pool.query(
    PostgresQuery(
        unsafeSQL: """
            INSERT INTO billing.refunds (id, provider, environment, provider_id, payment_id, payment_provider_id, status, provider_status,
                amount, currency, first_seen_at, updated_at, created_at)
            SELECT gen_random_uuid(), p.provider, 'live', 'rfd_' || p.provider_id, p.id, p.provider_id, 'succeeded', 'succeeded', 1, 'USD',
                p.created_at, p.created_at, p.created_at
            FROM billing.payments p WHERE p.status = 'refunded' LIMIT \(paymentCount / 10)
            """))
try await pool.query("VACUUM ANALYZE")
print(String(format: "seeded in %.1f s", Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000))

// The API on a free port, wired as `serve` wires it.
let keys = APIKeyStore(pool: pool)
let token = try await keys.create(name: "bench").token
let store = QueryStore(pool: pool)
let signer = PageCursorSigner(key: try await store.cursorSigningKey())
let port = 20000 + Int(getpid() % 20000)
let settings = ServeSettings(
    host: "127.0.0.1", port: port, roles: [.api], database: configuration, migrate: false, secrets: try WebhookSecrets(environment: [:]))
let app = BillingService.application(
    settings, pool: pool, queryPool: pool, ingestor: nil, readiness: { DatabaseHealth.Report(reachable: true, migrated: true) },
    metrics: BillingService.metrics(), logger: logger)
let server = Task { try await app.runService() }
try await Task.sleep(for: .seconds(1))

// The filtered list: MintCash payments that succeeded, 20 per page, newest first.
let filters: [(name: String, value: String)] = [("provider", "mintcash"), ("status", "succeeded"), ("limit", "20")]
let matching = try await pool.query("SELECT count(*) FROM billing.payments WHERE provider = 'mintcash' AND status = 'succeeded'")
    .first!.decode(Int.self, at: 0)
let deepRow = try await pool.query(
    PostgresQuery(
        unsafeSQL: """
            SELECT (extract(epoch FROM created_at) * 1000000)::bigint, id::text FROM billing.payments
            WHERE provider = 'mintcash' AND status = 'succeeded' ORDER BY created_at DESC, id DESC OFFSET \(matching * 9 / 10) LIMIT 1
            """)
).first!.decode((Int64, String).self)
let firstRequest = try ListRequest(filters, resource: "payments", filters: ListResource.payments.filters, cursors: signer)
let cursor = signer.cursor(after: PageKey(time: deepRow.0, tiebreak: deepRow.1), binding: firstRequest.binding(resource: "payments"))
let deepRequest = try ListRequest(filters + [("cursor", cursor)], resource: "payments", filters: ListResource.payments.filters, cursors: signer)
let allRequest = try ListRequest([("limit", "20")], resource: "payments", filters: ListResource.payments.filters, cursors: signer)

/// The SQL the API sends for `request`, with its bound values inlined, for pgbench.
func inlinedSQL(_ request: ListRequest) -> String {
    let query = QueryStore.listQuery(.payments, request)
    var sql = query.sql
    for (index, bind) in query.binds.enumerated().reversed() {
        sql = sql.replacingOccurrences(of: "$\(index + 1)", with: PostgresQuery.quoteLiteral(String(decoding: bind.bytes ?? [], as: UTF8.self)))
    }
    return sql.split(separator: "\n").joined(separator: " ") + ";\n"
}

struct Figures {
    var rate: Double
    var p50: Double
    var p99: Double
}

func wrk(_ path: String) throws -> Figures {
    let output = try BenchServer.run(
        "/usr/bin/wrk",
        [
            "-t", "2", "-c", String(clients), "-d", "\(seconds)s", "--latency", "-H", "Authorization: Bearer \(token)",
            "http://127.0.0.1:\(port)\(path)",
        ])
    guard !output.contains("Non-2xx") else { throw EmbeddedPostgresError("the API answered errors: \(output)") }
    func milliseconds(_ label: String) -> Double {
        guard let line = output.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }),
            let token = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first
        else { return .nan }
        let value = Double(token.dropLast(2).filter { "0123456789.".contains($0) }) ?? .nan
        if token.hasSuffix("us") { return value / 1000 }
        if token.hasSuffix("ms") { return value }
        return (Double(token.dropLast().filter { "0123456789.".contains($0) }) ?? .nan) * 1000
    }
    let rate =
        output.split(separator: "\n").first { $0.hasPrefix("Requests/sec:") }
        .flatMap { Double($0.split(separator: " ").last!) } ?? .nan
    return Figures(rate: rate, p50: milliseconds("50%"), p99: milliseconds("99%"))
}

func pgbench(_ request: ListRequest, name: String) throws -> Figures {
    let script = scratch + "/\(name).sql"
    try inlinedSQL(request).write(toFile: script, atomically: true, encoding: .utf8)
    let log = scratch + "/\(name)-log"
    try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
    chmod(log, 0o777)
    let output = try BenchServer.run(
        BenchServer.binDirectory + "/pgbench",
        [
            "-n", "-M", "prepared", "-f", script, "-c", String(clients), "-j", "2", "-T", String(seconds), "-l", "--log-prefix", log + "/tx",
        ] + pgArguments)
    let rate =
        output.split(separator: "\n").first { $0.contains("tps =") }
        .flatMap { Double($0.split(separator: "=")[1].split(separator: " ")[0]) } ?? .nan
    // Per-transaction log lines: client, transaction, latency µs, …
    var latencies: [Double] = []
    for file in try FileManager.default.contentsOfDirectory(atPath: log) {
        for line in try String(contentsOfFile: log + "/" + file, encoding: .utf8).split(separator: "\n") {
            if let micros = line.split(separator: " ").dropFirst(2).first.flatMap({ Double($0) }) { latencies.append(micros / 1000) }
        }
    }
    latencies.sort()
    let p = { (q: Double) in latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
    return Figures(rate: rate, p50: p(0.5), p99: p(0.99))
}

let firstPath = "/v1/payments?provider=mintcash&status=succeeded&limit=20"
let deepPath = firstPath + "&cursor=\(cursor)"
print("")
print(
    "filtered list GET \(firstPath): \(matching) matching of \(paymentCount) payments; \(clients) connections "
        + "(API pool of \(poolSize) database connections), \(seconds) s per run")
print("run                          |   req/s | p50 ms | p99 ms")
let apiFirst = try wrk(firstPath)
let apiDeep = try wrk(deepPath)
let apiAll = try wrk("/v1/payments?limit=20")
let sqlFirst = try pgbench(firstRequest, name: "first")
let sqlDeep = try pgbench(deepRequest, name: "deep")
let sqlAll = try pgbench(allRequest, name: "all")
for (label, figures) in [
    ("API first page", apiFirst), ("API page 90% deep", apiDeep), ("API unfiltered first page", apiAll),
    ("pgbench same SQL, first page", sqlFirst), ("pgbench same SQL, 90% deep", sqlDeep),
    ("pgbench same SQL, unfiltered", sqlAll),
] {
    print(
        label.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: " | %7.0f | %6.2f | %6.2f", figures.rate, figures.p50, figures.p99))
}
print("")
print(String(format: "deep page vs first page (API p50): %.2fx   (target ≤ 1.2x)", apiDeep.p50 / apiFirst.p50))
print(String(format: "API vs pgbench rate, first page:    %.2fx   (target ≥ 0.5x)", apiFirst.rate / sqlFirst.rate))
print(String(format: "API vs pgbench rate, deep page:     %.2fx", apiDeep.rate / sqlDeep.rate))
print(String(format: "API vs pgbench rate, unfiltered:    %.2fx", apiAll.rate / sqlAll.rate))
print(String(format: "peak RSS of the benchmark process (API server in-process): %.0f MiB", BenchServer.peakRSSMiB()))
server.cancel()
await pool.close()
