import Foundation
import Logging
import Postgres
import Synchronization

extension EmbeddedPostgres {
    /// Where clusters live whose project directory the cluster's user cannot enter.
    public static let relocationRoot = "/var/lib/billing-events"

    /// The embedded cluster of the project whose files are in `directory` (`--data-dir`): in
    /// `directory/postgres`, unless the program is root and the cluster's user (`postgres`) cannot
    /// enter `directory` (a home of mode 700, a `mktemp -d`). Then it lives in
    /// ``relocationRoot``/`<name>-<hash>/postgres`, named after the directory's absolute path, so
    /// every run of the same project finds the same cluster; ``remove()`` deletes it.
    public static func forProject(_ directory: String, logger: Logger) async throws -> EmbeddedPostgres {
        let project = URL(fileURLWithPath: directory).standardizedFileURL.path
        let local = EmbeddedPostgres(options: Options(dataDirectory: project + "/postgres"))
        return try await BlockingExecutor.detached {
            try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
            let tools = try ClusterTools(options: local.options)
            guard tools.runAs != nil, !tools.canEnter(project) else { return local }
            let home = relocationRoot + "/" + relocatedName(project)
            for path in [relocationRoot, home] {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                // Created by root: the cluster's user must be able to pass through whatever the umask says.
                chmod(path, 0o755)
            }
            try Data((project + "\n").utf8).write(to: URL(fileURLWithPath: home + "/project"))
            let relocated = EmbeddedPostgres(options: Options(dataDirectory: home + "/postgres"))
            logger.debug(
                "the cluster's user cannot enter the data directory; the embedded cluster lives outside it",
                metadata: ["data_dir": "\(project)", "cluster": "\(relocated.options.dataDirectory)"])
            return relocated
        }
    }

    /// `<last component>-<hash of the path>`: readable, and distinct for two projects of the same name.
    static func relocatedName(_ project: String) -> String {
        var components = project.split(separator: "/").map(String.init)
        if components.last == ".billing-events", components.count > 1 { components.removeLast() }
        let readable = String((components.last ?? "root").map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(40))
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in project.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return readable + "-" + String(hash, radix: 16)
    }

    /// True while a process holds a lease on this cluster.
    public func isInUse() throws -> Bool {
        let descriptor = open(usersLockPath, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_EX | LOCK_NB) != 0
    }

    /// Stops the server and deletes the cluster and its lock files (and the relocation directory
    /// of a relocated one); refused while a process holds a lease on it.
    public func remove() async throws {
        try await BlockingExecutor.detached { try removeNow() }
    }

    /// ``remove()``, blocking the calling thread.
    public func removeNow() throws {
        let lock = try FileLock(path: options.dataDirectory + ".lock")
        defer { lock.release() }
        guard try !isInUse() else {
            throw EmbeddedPostgresError("\(options.dataDirectory) is in use by a running billing-events process; stop it first")
        }
        try stopNow(mode: .fast)
        let fileManager = FileManager.default
        for path in [options.dataDirectory, startedMarkerPath, usersLockPath, options.dataDirectory + ".lock"]
        where fileManager.fileExists(atPath: path) {
            try fileManager.removeItem(atPath: path)
        }
        let parent = (options.dataDirectory as NSString).deletingLastPathComponent
        if (parent as NSString).deletingLastPathComponent == Self.relocationRoot {
            try? fileManager.removeItem(atPath: parent)
        }
    }

    /// The file whose shared `flock`s are the processes using the cluster.
    var usersLockPath: String { options.dataDirectory + ".users" }

    /// The postmaster pid a lease holder launched (absent when the server was started otherwise).
    var startedMarkerPath: String { options.dataDirectory + ".started" }

    /// One process's use of an embedded cluster: a shared `flock` on the users file, which the
    /// kernel drops if the process dies, so a `kill -9` never leaves a phantom user behind.
    public final class Lease: Sendable {
        /// The cluster in use.
        public let cluster: EmbeddedPostgres
        private let descriptor: Mutex<Int32>

        init(cluster: EmbeddedPostgres) throws {
            let descriptor = open(cluster.usersLockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw EmbeddedPostgresError("cannot open \(cluster.usersLockPath): \(String(cString: strerror(errno)))")
            }
            while flock(descriptor, LOCK_SH) != 0 {
                guard errno == EINTR else {
                    close(descriptor)
                    throw EmbeddedPostgresError("cannot lock \(cluster.usersLockPath): \(String(cString: strerror(errno)))")
                }
            }
            self.cluster = cluster
            self.descriptor = Mutex(descriptor)
        }

        deinit {
            descriptor.withLock { if $0 >= 0 { close($0) } }
        }

        /// Ends this process's use. When no other process uses the cluster and a lease holder
        /// launched its server, stops the server (fast: clients are disconnected, then a clean
        /// shutdown). Blocking, for exit paths; a second call does nothing.
        public func release(logger: Logger) {
            let held = descriptor.withLock { value in
                defer { value = -1 }
                return value
            }
            guard held >= 0 else { return }
            // The preparation lock keeps a joining process out between the check and the stop.
            let lock = try? FileLock(path: cluster.options.dataDirectory + ".lock")
            defer { lock?.release() }
            close(held)
            do {
                guard try !cluster.isInUse() else {
                    logger.debug("embedded PostgreSQL still in use by another process; left running")
                    return
                }
                let marker = (try? String(contentsOfFile: cluster.startedMarkerPath, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                guard let pid = try cluster.runningPID(), marker == String(pid) else { return }
                logger.info("stopping embedded PostgreSQL", metadata: ["data_directory": "\(cluster.options.dataDirectory)"])
                try cluster.stopNow(mode: .fast)
                try? FileManager.default.removeItem(atPath: cluster.startedMarkerPath)
            } catch {
                logger.warning("could not stop embedded PostgreSQL", metadata: ["error": "\(error)"])
            }
        }
    }
}
