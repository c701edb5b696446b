import Foundation
import Logging
import Postgres
import PostgresServer
import Synchronization

/// The PostgreSQL server of a test run: a throwaway cluster this process creates on first use
/// (or the server named by `TEST_DATABASE_URL`), removed when the process exits.
///
/// A database test never skips: if no server can be started, the test fails with the reason.
public enum TestDatabase {
    /// Logger for test infrastructure; quiet unless `TEST_LOG_LEVEL` is set.
    public static let logger: Logger = {
        var logger = Logger(label: "tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        return logger
    }()

    /// Connection settings for the maintenance database of the shared test server.
    public static func server() async throws -> PostgresConfiguration {
        try await SharedServer.shared.configuration()
    }

    /// Creates an empty database, runs `body` with settings that reach it, and drops it afterwards.
    public static func withFreshDatabase<T>(
        _ body: (PostgresConfiguration) async throws -> T
    ) async throws -> T {
        let server = try await server()
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        var configuration = server
        configuration.connectionString += " dbname=\(name)"
        return try await PostgresConnection.withConnection(server, logger: logger) { admin in
            try await admin.query("CREATE DATABASE \(identifier: name)")
            do {
                let value = try await body(configuration)
                _ = try? await admin.query("DROP DATABASE \(identifier: name) WITH (FORCE)")
                return value
            } catch {
                _ = try? await admin.query("DROP DATABASE \(identifier: name) WITH (FORCE)")
                throw error
            }
        }
    }

    /// A cluster of the test's own (for restart tests), removed at exit; the caller starts it.
    public static func privateCluster() -> EmbeddedPostgres {
        let cluster = EmbeddedPostgres(options: clusterOptions(directory: makeScratchDirectory()))
        SharedServer.registerForCleanup(cluster)
        return cluster
    }

    /// A fresh, empty scratch directory under the system temporary directory.
    public static func makeScratchDirectory() -> String {
        let path = NSTemporaryDirectory() + "billing-events-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    static func clusterOptions(directory: String) -> EmbeddedPostgres.Options {
        EmbeddedPostgres.Options(
            dataDirectory: directory + "/data", database: "postgres",
            serverSettings: [
                "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                "max_connections": "300", "shared_buffers": "'64MB'",
            ],
            fastInit: true)
    }
}

/// Starts the shared cluster once per process and stops it at exit.
actor SharedServer {
    static let shared = SharedServer()
    private static let clusters = Mutex<[EmbeddedPostgres]>([])
    private var started: Task<PostgresConfiguration, any Error>?

    func configuration() async throws -> PostgresConfiguration {
        if let started { return try await started.value }
        let task = Task { () throws -> PostgresConfiguration in
            if let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty {
                return PostgresConfiguration(connectionString: url)
            }
            let cluster = EmbeddedPostgres(
                options: TestDatabase.clusterOptions(directory: TestDatabase.makeScratchDirectory()))
            Self.registerForCleanup(cluster)
            do {
                return try await cluster.start(logger: TestDatabase.logger)
            } catch {
                throw EmbeddedPostgresError("cannot start the test PostgreSQL server: \(error)")
            }
        }
        started = task
        return try await task.value
    }

    static func registerForCleanup(_ cluster: EmbeddedPostgres) {
        let first = clusters.withLock { list in
            list.append(cluster)
            return list.count == 1
        }
        if first { atexit { SharedServer.cleanUp() } }
    }

    /// Stops every cluster of this process and deletes its files.
    static func cleanUp() {
        for cluster in clusters.withLock({ $0 }) {
            try? cluster.stopNow(mode: .immediate)
            let scratch = (cluster.options.dataDirectory as NSString).deletingLastPathComponent
            try? FileManager.default.removeItem(atPath: scratch)
        }
    }
}

/// Executables of this package, built beside the test bundle by `swift build --build-tests`.
public enum TestExecutables {
    /// The path of the product `name` (for example `billing-events`).
    public static func path(_ name: String) -> String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name).path
    }
}
