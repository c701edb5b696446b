import BenchSupport
// Backfill benchmark on one throwaway server, in one run:
//   1. generates N realistic events of about 2 KB (all three providers; Flexprice as Svix-export
//      wrappers with their svix-id) as one NDJSON file per provider, and the same events already
//      normalized as one COPY text file of billing.events rows;
//   2. baseline: `psql \copy` of the normalized rows into the empty billing.events;
//   3. the table is emptied, then `billing-events backfill` (the release build, one run per
//      provider file) imports the NDJSON files into the same table.
// Prints events/s and the peak RSS of each process; the backfill's peak must not grow with N.
// Usage: scripts/bench-backfill [events] [--no-baseline]
import BillingCore
import BillingStore
import Foundation
import Logging
import Postgres
import PostgresServer
import TestSupport

let arguments = Array(CommandLine.arguments.dropFirst())
let eventCount = arguments.compactMap { Int($0) }.first ?? 1_000_000
let runBaseline = !arguments.contains("--no-baseline")
var logger = Logger(label: "bench")
logger.logLevel = .warning

/// Runs `argv` to its end (output appended to `log`); returns its exit status, wall time and peak
/// resident memory.
func measure(_ argv: [String], log: String) throws -> (status: Int32, seconds: Double, peakMiB: Double) {
    var pid: pid_t = 0
    let cArguments = argv.map { strdup($0) } + [nil]
    defer { for argument in cArguments { free(argument) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let started = ContinuousClock.now
    let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
    guard spawned == 0 else { throw BackfillError("cannot start \(argv[0]): errno \(spawned)") }
    var status: Int32 = 0
    var usage = rusage()
    _ = wait4(pid, &status, 0, &usage)
    return ((status >> 8) & 0xFF, BenchServer.seconds(ContinuousClock.now - started), Double(usage.ru_maxrss) / 1024)
}

/// The body padded to about 2 KB with the request context an export carries (ids, client details,
/// line items), inserted as a last top-level member so every provider's normalizer accepts it.
func padded(_ body: String, _ index: Int) -> String {
    var context = #","context":{"request_id":"req_\#(String(index, radix: 16))","client":"billing-sync/4.2 (linux; x86_64)","line_items":["#
    var item = 0
    while body.utf8.count + context.utf8.count < 1950 {
        if item > 0 { context += "," }
        context +=
            #"{"sku":"sku_\#(index % 977)_\#(item)","description":"Usage tier \#(item) for period \#(index % 12 + 1)","quantity":"\#(item + 1)","unit_amount":"\#(index % 90 + 1).\#(item % 10)0"}"#
        item += 1
    }
    return String(body.dropLast()) + context + "]}}"
}

func timestamp(_ date: Date?) -> String? {
    date.map { PostgresTimestamp.format(microseconds: Int64(($0.timeIntervalSince1970 * 1_000_000).rounded())) }
}

let scratch = NSTemporaryDirectory() + "billing-events-backfill-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
chmod(scratch, 0o755)

// 1. Generate the files.
print("generating \(eventCount) events…")
var started = ContinuousClock.now
let providers = Provider.allCases
var outputs: [Provider: FileHandle] = [:]
for provider in providers {
    _ = FileManager.default.createFile(atPath: "\(scratch)/\(provider.rawValue).ndjson", contents: nil)
    outputs[provider] = FileHandle(forWritingAtPath: "\(scratch)/\(provider.rawValue).ndjson")!
}
_ = FileManager.default.createFile(atPath: "\(scratch)/normalized.copy", contents: nil)
let copyFile = FileHandle(forWritingAtPath: "\(scratch)/normalized.copy")!
var generator = HistoryGenerator(seed: 7)
var written = 0
var ndjsonBytes = 0
let receivedAt = Date()
while written < eventCount {
    var lines: [Provider: String] = [:]
    var copyRows: [UInt8] = []
    for generated in generator.history(entities: 256) where written < eventCount {
        let provider = Provider(rawValue: generated.provider)!
        let body = padded(generated.body, written)
        let line: String
        if provider == .flexprice, let id = generated.deliveryID {
            line = #"{"id":"\#(id)","timestamp":\#(1_780_000_000 + written / 100),"body":\#(body)}"#
        } else {
            line = body
        }
        let decoder = BackfillDecoder(
            provider: provider, environment: ProviderEnvironment(rawValue: generated.environment)!, environmentIsExplicit: true,
            entity: nil, file: "\(scratch)/\(provider.rawValue).ndjson", receivedAt: receivedAt)
        guard let item = try? decoder.decode(Array(line.utf8)[...], line: 1) else { continue }
        lines[provider, default: ""] += line + "\n"
        written += 1
        ndjsonBytes += line.utf8.count + 1
        guard runBaseline else { continue }
        let (event, delivery) = (item.event, item.delivery)
        PostgresCopyWriter.appendTextRow(
            [
                event.id.uuidString.lowercased(), event.provider.rawValue, event.environment.rawValue, event.eventType,
                event.entityKind.rawValue, event.entityID, event.customerID, timestamp(event.occurredAt), timestamp(event.asOf),
                event.amountText, event.currency, event.dedupeKey, event.providerEventID, "\\x" + Hex.encode(delivery.bodySHA256),
                "\\x" + Hex.encode(delivery.body), "{}", "backfill", delivery.source, delivery.deliveryID,
                timestamp(delivery.deliveryTimestamp), timestamp(receivedAt),
            ], to: &copyRows)
    }
    for (provider, text) in lines { outputs[provider]!.write(Data(text.utf8)) }
    copyFile.write(Data(copyRows))
}
for handle in outputs.values { try handle.close() }
try copyFile.close()
print(
    String(
        format: "generated %d events, %.0f MiB of NDJSON (%.0f bytes per event) in %.0f s",
        written, Double(ndjsonBytes) / 1_048_576, Double(ndjsonBytes) / Double(written), BenchServer.seconds(ContinuousClock.now - started)))

// 2. The server.
let server = try await BenchServer.start(
    "backfill-bench", settings: ["shared_buffers": "'512MB'", "max_wal_size": "'8GB'", "checkpoint_timeout": "'30min'"], logger: logger)
defer { server.stop() }
let (cluster, configuration) = (server.cluster, server.configuration)
let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: logger)
try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: logger).migrate()
let columns = """
    id, provider, environment, event_type, entity_kind, entity_provider_id, customer_provider_id, occurred_at, as_of, amount, \
    currency, dedupe_key, provider_event_id, body_sha256, raw_body, signature_headers, channel, source, delivery_id, delivered_at, received_at
    """
func storedEvents() async throws -> Int64 { try await pool.query("SELECT count(*) FROM billing.events").decodeColumn(Int64.self)[0] }
func reset() async throws {
    try await pool.query("TRUNCATE billing.events, billing.event_keys, billing.backfill_files")
    try await pool.query("CHECKPOINT")
}

var baselineRate: Double?
if runBaseline {
    // The bare rows only: positions from the log's sequence, no key table (the backfill writes both).
    try await pool.query("ALTER TABLE billing.events ALTER COLUMN position SET DEFAULT nextval('billing.event_positions')")

    let psql = ["/usr/bin/psql", "/usr/lib/postgresql/15/bin/psql"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "psql"
    let result = try measure(
        [
            psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", configuration.connectionString, "-c",
            "\\copy billing.events (\(columns)) FROM '\(scratch)/normalized.copy'",
        ], log: scratch + "/psql.log")
    let stored = try await storedEvents()
    guard result.status == 0, stored == Int64(written) else { fatalError("baseline failed: exit \(result.status), \(stored) rows") }
    baselineRate = Double(written) / result.seconds
    print(
        String(
            format: "psql \\copy (normalized rows):  %8.0f events/s  %6.1f s  peak RSS %5.1f MiB (psql)",
            baselineRate!, result.seconds, result.peakMiB))
    try await pool.query("ALTER TABLE billing.events ALTER COLUMN position DROP DEFAULT")
    try await reset()
}

let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("billing-events").path
var totalSeconds = 0.0
var peak = 0.0
for provider in providers {
    let result = try measure(
        [
            binary, "backfill", "--database-url", configuration.connectionString, "--provider", provider.rawValue,
            "\(scratch)/\(provider.rawValue).ndjson",
        ], log: scratch + "/backfill.log")
    guard result.status == 0 else {
        fatalError(
            "backfill of \(provider.rawValue) exited with \(result.status): \((try? String(contentsOfFile: scratch + "/backfill.log", encoding: .utf8)) ?? "")"
        )
    }
    totalSeconds += result.seconds
    peak = max(peak, result.peakMiB)
}
let stored = try await storedEvents()
guard stored == Int64(written) else { fatalError("backfill stored \(stored) of \(written) events") }
let rate = Double(written) / totalSeconds
print(
    String(
        format: "billing-events backfill:        %8.0f events/s  %6.1f s  peak RSS %5.1f MiB%@",
        rate, totalSeconds, peak, baselineRate.map { String(format: "  → %.2f× the \\copy rate", rate / $0) } ?? ""))
await pool.close()
