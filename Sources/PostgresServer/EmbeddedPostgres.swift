import Foundation
import Logging
import Postgres

/// A private PostgreSQL cluster that the program creates with the installed `initdb` and runs with
/// `pg_ctl`, listening only on a Unix socket: the embedded development database, and the
/// throwaway server of the tests.
///
/// `start` creates the cluster on first use, reuses it when it already runs, and clears a stale
/// pid file left by a crash. PostgreSQL refuses to run as root, so when the program is root the
/// cluster is owned and run by an unprivileged system user (`postgres` by default); `forProject`
/// places it where that user can reach it. `acquire` also counts this process among the cluster's
/// users, so the last one to leave stops the server a user launched.
public struct EmbeddedPostgres: Sendable {
    /// Where the cluster lives and how it runs.
    public struct Options: Sendable {
        /// The cluster's data directory (absolute or relative to the working directory).
        public var dataDirectory: String
        /// The database to create and connect to.
        public var database: String
        /// The port number, which only names the socket file (no TCP listener is opened).
        public var port: Int
        /// The cluster's superuser role.
        public var superuser: String
        /// Extra `postgresql.conf` settings written when the cluster is created.
        public var serverSettings: [String: String]
        /// The operating-system user that owns and runs the cluster; nil means the current user,
        /// or `postgres` when the current user is root.
        public var systemUser: String?
        /// Where `initdb` and `pg_ctl` are; nil searches the usual places.
        public var binDirectory: String?
        /// Skips fsync during `initdb` (for throwaway clusters).
        public var fastInit: Bool

        /// Creates options with development defaults.
        public init(
            dataDirectory: String, database: String = "billing_events", port: Int = 5432,
            superuser: String = "postgres", serverSettings: [String: String] = [:], systemUser: String? = nil,
            binDirectory: String? = nil, fastInit: Bool = false
        ) {
            self.dataDirectory = dataDirectory
            self.database = database
            self.port = port
            self.superuser = superuser
            self.serverSettings = serverSettings
            self.systemUser = systemUser
            self.binDirectory = binDirectory
            self.fastInit = fastInit
        }
    }

    /// How `stop` ends the server.
    public enum StopMode: String, Sendable {
        /// Disconnects clients and shuts down cleanly.
        case fast
        /// Quits without a checkpoint (crash recovery on next start); for throwaway clusters.
        case immediate
    }

    /// The options in force, with `dataDirectory` made absolute.
    public let options: Options

    /// Creates a handle; nothing happens on disk until `start`.
    public init(options: Options) {
        var options = options
        options.dataDirectory = URL(fileURLWithPath: options.dataDirectory).standardizedFileURL.path
        self.options = options
    }

    /// The directory holding the server's socket: the data directory itself unless its path is too
    /// long for a socket address, then a short directory under /tmp derived from it.
    public var socketDirectory: String {
        let socketPath = options.dataDirectory + "/.s.PGSQL.\(options.port)"
        if socketPath.utf8.count < 100 { return options.dataDirectory }
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in options.dataDirectory.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return "/tmp/billing-events-" + String(hash, radix: 16)
    }

    /// The libpq settings that reach this cluster.
    public var configuration: PostgresConfiguration {
        PostgresConfiguration(
            connectionString: "host=\(socketDirectory) port=\(options.port) user=\(options.superuser) dbname=\(options.database)")
    }

    /// Creates the cluster if needed, starts it if it is not running, creates the database, and
    /// returns how to connect. Safe to call from several processes at once.
    public func start(logger: Logger) async throws -> PostgresConfiguration {
        _ = try await BlockingExecutor.detached { try prepare(logger: logger, join: false) }
        try await createDatabaseIfMissing(logger: logger)
        return configuration
    }

    /// ``start(logger:)``, and registers this process as a user of the cluster until the returned
    /// lease is released: the last user to release a server that a lease's `start` launched stops
    /// it, while a server another process still uses keeps running.
    public func acquire(logger: Logger) async throws -> (PostgresConfiguration, Lease) {
        let lease = try await BlockingExecutor.detached { try prepare(logger: logger, join: true)! }
        do {
            try await createDatabaseIfMissing(logger: logger)
        } catch {
            lease.release(logger: logger)
            throw error
        }
        return (configuration, lease)
    }

    /// Stops the server if it runs.
    public func stop(mode: StopMode = .fast) async throws {
        try await BlockingExecutor.detached { try stopNow(mode: mode) }
    }

    /// Stops the server if it runs, blocking the calling thread (for exit handlers).
    public func stopNow(mode: StopMode = .fast) throws {
        guard try runningPID() != nil else { return }
        let tools = try ClusterTools(options: options)
        let result = try tools.run(tools.pgCtl, ["stop", "-D", options.dataDirectory, "-m", mode.rawValue, "-w", "-s"])
        guard result.status == 0 else {
            throw EmbeddedPostgresError("pg_ctl stop failed: \(result.output)")
        }
    }

    /// The postmaster's pid when the cluster runs; nil when it does not (a stale pid file is not running).
    public func runningPID() throws -> Int32? {
        let pidFile = options.dataDirectory + "/postmaster.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let line = text.split(separator: "\n").first, let pid = Int32(line.trimmingCharacters(in: .whitespaces))
        else { return nil }
        let alive = kill(pid, 0) == 0 || errno == EPERM
        let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
        // A pid reused by an unrelated process after a crash does not count.
        return alive && command.hasPrefix("postgres") ? pid : nil
    }

    // MARK: - Steps

    /// Creates and starts the cluster under its preparation lock; with `join`, also takes this
    /// process's share of the users lock before the preparation lock is let go (so a user that is
    /// stopping the server never races one that is joining), and returns it.
    private func prepare(logger: Logger, join: Bool) throws -> Lease? {
        let tools = try ClusterTools(options: options)
        let parent = (options.dataDirectory as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let lock = try FileLock(path: options.dataDirectory + ".lock")
        defer { lock.release() }

        if !FileManager.default.fileExists(atPath: options.dataDirectory + "/PG_VERSION") {
            try initialize(tools, logger: logger)
        }
        let lease = join ? try Lease(cluster: self) : nil
        if try runningPID() != nil {
            logger.debug("embedded PostgreSQL already running", metadata: ["data_directory": "\(options.dataDirectory)"])
            return lease
        }
        let pidFile = options.dataDirectory + "/postmaster.pid"
        if FileManager.default.fileExists(atPath: pidFile) {
            logger.notice("removing a stale postmaster.pid left by a previous run")
            try FileManager.default.removeItem(atPath: pidFile)
        }
        try tools.prepareDirectory(socketDirectory)
        logger.info("starting embedded PostgreSQL", metadata: ["data_directory": "\(options.dataDirectory)"])
        let logFile = options.dataDirectory + "/server.log"
        let result = try tools.run(tools.pgCtl, ["start", "-D", options.dataDirectory, "-l", logFile, "-w", "-t", "60", "-s"])
        guard result.status == 0 else {
            let tail = ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "")
                .split(separator: "\n").suffix(15).joined(separator: "\n")
            throw EmbeddedPostgresError(
                "pg_ctl start failed (\(result.output.trimmingCharacters(in: .whitespacesAndNewlines))); server log:\n\(tail)")
        }
        // Only a server a lease holder launched is stopped by the last one to leave: one the
        // operator started by hand (or an older build left running) is theirs to stop.
        if join, let pid = try runningPID() {
            try Data("\(pid)\n".utf8).write(to: URL(fileURLWithPath: startedMarkerPath))
        }
        return lease
    }

    private func initialize(_ tools: ClusterTools, logger: Logger) throws {
        let fileManager = FileManager.default
        if let contents = try? fileManager.contentsOfDirectory(atPath: options.dataDirectory), !contents.isEmpty {
            throw EmbeddedPostgresError(
                "\(options.dataDirectory) exists but holds no PostgreSQL cluster (no PG_VERSION); move it away and retry")
        }
        logger.info("creating embedded PostgreSQL cluster", metadata: ["data_directory": "\(options.dataDirectory)"])
        try tools.prepareDirectory(options.dataDirectory)
        var arguments = ["-D", options.dataDirectory, "-U", options.superuser, "-E", "UTF8", "--locale=C", "-A", "trust"]
        if options.fastInit { arguments.append("--no-sync") }
        let result = try tools.run(tools.initdb, arguments)
        guard result.status == 0 else { throw EmbeddedPostgresError("initdb failed:\n\(result.output)") }

        var settings = [
            "listen_addresses": "''",
            "unix_socket_directories": PostgresQuery.quoteLiteral(socketDirectory),
            "port": String(options.port),
        ]
        for (key, value) in options.serverSettings { settings[key] = value }
        let lines = settings.keys.sorted().map { "\($0) = \(settings[$0]!)" }
        let conf = "\n# Written by billing-events for its embedded cluster.\n" + lines.joined(separator: "\n") + "\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: options.dataDirectory + "/postgresql.conf"))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(conf.utf8))
    }

    private func createDatabaseIfMissing(logger: Logger) async throws {
        var maintenance = configuration
        maintenance.connectionString = "host=\(socketDirectory) port=\(options.port) user=\(options.superuser) dbname=postgres"
        try await PostgresConnection.withConnection(maintenance, logger: logger) { connection in
            let exists = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(options.database)")
            guard exists.rows.isEmpty else { return }
            do {
                try await connection.query("CREATE DATABASE \(identifier: options.database)")
            } catch PostgresError.Code.duplicateDatabase {
                // Another process created it first.
            }
        }
    }
}
