import BenchSupport
// Measures the libpq wrapper against PostgreSQL's own tools on one throwaway server, in one run:
//   1. single-row INSERT … ON CONFLICT DO NOTHING of a 2 KB jsonb row at 1, 16 and 64 concurrent
//      tasks, beside pgbench running the same statement with the same number of clients;
//   2. COPY … FROM STDIN of the same file through the wrapper, beside `psql \copy`.
// Prints rows/s, latency percentiles and the ratio to the baseline. Usage: scripts/bench [seconds]
import Foundation
import Logging
import Postgres
import PostgresServer

let seconds = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 5
let copyRows = 300_000
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    return logger
}()

// Commits are not flushed to disk, so the figures measure the client path, not this VM's fsync.
let server = try await BenchServer.start(
    "bench", settings: ["synchronous_commit": "off", "max_connections": "200", "shared_buffers": "'256MB'"], logger: logger)
defer { server.stop() }
let (scratch, cluster, configuration) = (server.scratch, server.cluster, server.configuration)

let admin = try await PostgresConnection.connect(configuration, logger: logger)
try await admin.query("CREATE TABLE bench_events (id bigint PRIMARY KEY, body jsonb NOT NULL)")
try await admin.query("CREATE TABLE bench_copy (id bigint PRIMARY KEY, label text NOT NULL, amount numeric NOT NULL, body jsonb NOT NULL)")

let body: String = {
    var text = #"{"type":"payment.succeeded","data":{"id":"pay_123","amount":"49.99","currency":"EUR","note":""#
    text += String(repeating: "x", count: 2048 - text.utf8.count - 4) + #""}}"#
    return text
}()

let socket = cluster.socketDirectory
let pgArguments = server.clientArguments

/// A cheap generator of random row ids (no system call per row, like pgbench's own PRNG).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nextID() -> Int64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int64((z ^ (z >> 31)) % 1_000_000_000_000) + 1
    }
}

/// CPU seconds (user + system) used so far by this process or by its finished children.
func cpuSeconds(_ who: Int32) -> Double {
    var usage = rusage()
    getrusage(who, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Wrapper inserts: `clients` tasks, each with its own connection, for `seconds`. `batched` runs each
/// task's loop on its connection's thread (`perform`), else every insert is its own `await query`.
func wrapperInserts(clients: Int, batched: Bool) async throws -> (rate: Double, p50: Double, p99: Double, cpu: Double) {
    let cpuBefore = cpuSeconds(RUSAGE_SELF.rawValue)
    let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: clients), logger: logger)
    let jsonb = PostgresJSONB(body)
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(seconds)
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for _ in 0..<clients {
            group.addTask {
                try await pool.withConnection { connection in
                    let seed = UInt64.random(in: 1...UInt64.max)
                    if batched {
                        return try await connection.perform { connection in
                            var ids = SplitMix(seed: seed)
                            var samples: [Double] = []
                            samples.reserveCapacity(100_000)
                            while clock.now < deadline {
                                let id = ids.nextID()
                                let start = clock.now
                                try connection.execute(
                                    "INSERT INTO bench_events (id, body) VALUES (\(id), \(jsonb)) ON CONFLICT DO NOTHING")
                                samples.append(Double((clock.now - start) / .microseconds(1)))
                            }
                            return samples
                        }
                    }
                    var ids = SplitMix(seed: seed)
                    var samples: [Double] = []
                    samples.reserveCapacity(100_000)
                    while clock.now < deadline {
                        let id = ids.nextID()
                        let start = clock.now
                        try await connection.query(
                            "INSERT INTO bench_events (id, body) VALUES (\(id), \(jsonb)) ON CONFLICT DO NOTHING")
                        samples.append(Double((clock.now - start) / .microseconds(1)))
                    }
                    return samples
                }
            }
        }
        return try await group.reduce(into: []) { $0 += $1 }.sorted()
    }
    let cpu = (cpuSeconds(RUSAGE_SELF.rawValue) - cpuBefore) / Double(latencies.count) * 1e6
    await pool.close()
    let p = { (q: Double) in latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] / 1000 }
    return (Double(latencies.count) / Double(seconds), p(0.5), p(0.99), cpu)
}

/// pgbench with the same statement and client count.
func pgbenchInserts(clients: Int, mode: String) throws -> (rate: Double, cpu: Double) {
    let cpuBefore = cpuSeconds(RUSAGE_CHILDREN.rawValue)
    let script = scratch + "/insert.sql"
    let literal = PostgresQuery.quoteLiteral(body)
    try "\\set id random(1, 1000000000000)\nINSERT INTO bench_events (id, body) VALUES (:id, \(literal)) ON CONFLICT DO NOTHING;\n"
        .write(toFile: script, atomically: true, encoding: .utf8)
    let output = try BenchServer.run(
        BenchServer.binDirectory + "/pgbench",
        ["-n", "-M", mode, "-f", script, "-c", String(clients), "-j", String(min(clients, 2)), "-T", String(seconds)] + pgArguments)
    func number(after label: String) -> Double {
        guard let line = output.split(separator: "\n").first(where: { $0.contains(label) }) else { return 0 }
        return Double(line.split(separator: "=")[1].split(separator: " ")[0]) ?? 0
    }
    let rate = number(after: "tps =")
    return (rate, (cpuSeconds(RUSAGE_CHILDREN.rawValue) - cpuBefore) / (rate * Double(seconds)) * 1e6)
}

print(
    "billing-events postgres-bench: \(seconds) s per run, 2 KB jsonb rows, server \(try await admin.query("SHOW server_version").first!.decode(String.self, at: 0))"
)
print("")
print("single-row INSERT … ON CONFLICT DO NOTHING (rows/s; latency ms)")
print("wrapper query: each insert its own `await connection.query` (hops to the connection thread and back)")
print("wrapper perform: each task's loop runs on its connection's thread via `connection.perform`")
print("")
print("clients | mode             | rows/s | p50 ms | p99 ms | client CPU µs/row | vs pgbench simple | vs pgbench prepared")
for clients in [1, 16, 64] {
    try await admin.query("TRUNCATE bench_events")
    let simple = try pgbenchInserts(clients: clients, mode: "simple")
    try await admin.query("TRUNCATE bench_events")
    let prepared = try pgbenchInserts(clients: clients, mode: "prepared")
    print(String(format: "%7d | pgbench simple   | %6.0f |      - |      - | %17.1f |                   |", clients, simple.rate, simple.cpu))
    print(String(format: "%7d | pgbench prepared | %6.0f |      - |      - | %17.1f |                   |", clients, prepared.rate, prepared.cpu))
    for batched in [false, true] {
        try await admin.query("TRUNCATE bench_events")
        let wrapper = try await wrapperInserts(clients: clients, batched: batched)
        print(
            String(
                format: "%7d | %@ | %6.0f | %6.2f | %6.2f | %17.1f | %16.2fx | %18.2fx",
                clients, batched ? "wrapper perform " : "wrapper query   ", wrapper.rate, wrapper.p50, wrapper.p99, wrapper.cpu,
                wrapper.rate / simple.rate, wrapper.rate / prepared.rate))
    }
}

// COPY: the same CSV file through psql \copy and through the wrapper.
let csvPath = scratch + "/rows.csv"
do {
    _ = FileManager.default.createFile(atPath: csvPath, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: csvPath))
    var chunk = ""
    for id in 1...copyRows {
        chunk += "\(id),\"Zoë №\(id) 日本 🧾\",\(id).99,\"{\"\"n\"\": \(id), \"\"s\"\": \"\"ünïcødé payload for row \(id)\"\"}\"\n"
        if id % 10_000 == 0 {
            handle.write(Data(chunk.utf8))
            chunk = ""
        }
    }
    handle.write(Data(chunk.utf8))
    try handle.close()
}
let fileBytes = (try FileManager.default.attributesOfItem(atPath: csvPath)[.size] as? Int) ?? 0
let copySQL = "COPY bench_copy (id, label, amount, body) FROM STDIN (FORMAT csv)"

func timed(_ work: () async throws -> Void) async throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try await work()
    return Double((clock.now - start) / .milliseconds(1)) / 1000
}

var psqlTimes: [Double] = []
var wrapperTimes: [Double] = []
for _ in 0..<3 {
    try await admin.query("TRUNCATE bench_copy")
    psqlTimes.append(
        try await timed {
            _ = try BenchServer.run(
                "/usr/bin/psql",
                pgArguments + ["-v", "ON_ERROR_STOP=1", "-c", "\\copy bench_copy (id, label, amount, body) FROM '\(csvPath)' (FORMAT csv)"])
        })
    try await admin.query("TRUNCATE bench_copy")
    wrapperTimes.append(
        try await timed {
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: csvPath))
            defer { try? input.close() }
            let copied = try await admin.copyIn(PostgresQuery(unsafeSQL: copySQL)) { writer in
                while let data = try input.read(upToCount: 1 << 20), !data.isEmpty {
                    try await writer.write(bytes: data)
                }
            }
            precondition(copied == copyRows, "copied \(copied)")
        })
}
let psqlBest = psqlTimes.min()!
let wrapperBest = wrapperTimes.min()!
print("")
print("COPY … FROM STDIN of \(copyRows) rows, \(fileBytes / 1024) KiB CSV with non-ASCII text (best of 3)")
print(String(format: "psql \\copy: %.0f rows/s (%.2f s)", Double(copyRows) / psqlBest, psqlBest))
print(String(format: "wrapper:    %.0f rows/s (%.2f s)  = %.2fx of psql \\copy", Double(copyRows) / wrapperBest, wrapperBest, psqlBest / wrapperBest))

var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
print("")
print("peak RSS of the benchmark process: \(usage.ru_maxrss / 1024) MiB")
await admin.close()
