import Foundation
import Logging
import Postgres
import PostgresServer

/// The throwaway PostgreSQL server of one benchmark run, in a scratch directory of its own,
/// with the tools and measurements every benchmark uses.
public struct BenchServer: Sendable {
    /// The scratch directory (the cluster's data directory is `data/` below it).
    public let scratch: String
    /// The running cluster.
    public let cluster: EmbeddedPostgres
    /// How to connect to its `bench` database.
    public let configuration: PostgresConfiguration

    /// Starts a server named after the benchmark with `settings` (postgresql.conf values).
    public static func start(_ name: String, settings: [String: String], logger: Logger) async throws -> BenchServer {
        let scratch = NSTemporaryDirectory() + "billing-events-\(name)-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        chmod(scratch, 0o755)
        let cluster = EmbeddedPostgres(
            options: .init(dataDirectory: scratch + "/data", database: "bench", serverSettings: settings, fastInit: true))
        return BenchServer(scratch: scratch, cluster: cluster, configuration: try await cluster.start(logger: logger))
    }

    /// Stops the server at once and removes the scratch directory.
    public func stop() {
        try? cluster.stopNow(mode: .immediate)
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// `psql`/`pgbench` arguments that reach the `bench` database.
    public var clientArguments: [String] { ["-h", cluster.socketDirectory, "-p", "5432", "-U", "postgres", "bench"] }

    /// The directory holding `pgbench` (Debian keeps it beside the server, not on the PATH).
    public static let binDirectory =
        ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin", "/usr/bin"]
        .first { FileManager.default.isExecutableFile(atPath: $0 + "/pgbench") } ?? "/usr/bin"

    /// Runs `path` with `arguments` to its end; its output, or an error when it fails.
    public static func run(_ path: String, _ arguments: [String]) throws -> String {
        let (status, output) = try Subprocess.run([path] + arguments)
        guard status == 0 else { throw EmbeddedPostgresError("\(path) failed: \(output)") }
        return output
    }

    /// `duration` in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The `p` quantile (0…1) of `values`, NaN for none.
    public static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// This process's peak resident memory so far, in MiB.
    public static func peakRSSMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
