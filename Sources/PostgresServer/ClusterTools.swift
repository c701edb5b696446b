import Foundation

/// The PostgreSQL server programs and the user they run as, for ``EmbeddedPostgres``.
struct ClusterTools {
    let initdb: String
    let pgCtl: String
    /// The unprivileged user to run the programs as, when we are root.
    let runAs: (name: String, uid: uid_t, gid: gid_t)?

    init(options: EmbeddedPostgres.Options) throws {
        let directory = try Self.binDirectory(preferred: options.binDirectory)
        initdb = directory + "/initdb"
        pgCtl = directory + "/pg_ctl"
        if geteuid() == 0 {
            let name = options.systemUser ?? "postgres"
            guard let entry = getpwnam(name) else {
                throw EmbeddedPostgresError(
                    "PostgreSQL refuses to run as root, and there is no user '\(name)' to run it as. "
                        + "Create one (useradd --system \(name)), run as a normal user, or set DATABASE_URL.")
            }
            runAs = (name, entry.pointee.pw_uid, entry.pointee.pw_gid)
        } else if let name = options.systemUser, let entry = getpwnam(name), entry.pointee.pw_uid != geteuid() {
            throw EmbeddedPostgresError("running the cluster as '\(name)' needs root")
        } else {
            runAs = nil
        }
    }

    /// Finds a directory with both `initdb` and `pg_ctl`, or says what to install.
    static func binDirectory(preferred: String?) throws -> String {
        var candidates: [String] = []
        if let preferred { candidates.append(preferred) }
        if let environment = ProcessInfo.processInfo.environment["PG_BINDIR"] { candidates.append(environment) }
        let versioned = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        candidates += versioned
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        candidates += ["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin"]
        return try find(in: candidates)
    }

    /// The first of `candidates` holding both programs.
    static func find(in candidates: [String]) throws -> String {
        let fileManager = FileManager.default
        if let found = candidates.first(where: {
            fileManager.isExecutableFile(atPath: $0 + "/initdb") && fileManager.isExecutableFile(atPath: $0 + "/pg_ctl")
        }) {
            return found
        }
        throw EmbeddedPostgresError(
            "the PostgreSQL server programs (initdb, pg_ctl) are not installed; looked in "
                + "\(candidates.prefix(6).joined(separator: ", ")). Install them (apt-get install postgresql) "
                + "or set DATABASE_URL to a running server.")
    }

    /// Creates `path` (mode 0700) owned by the cluster's user, and checks that user can reach it.
    func prepareDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let runAs else { return }
        guard chown(path, runAs.uid, runAs.gid) == 0 else {
            throw EmbeddedPostgresError("cannot give \(path) to user '\(runAs.name)': \(String(cString: strerror(errno)))")
        }
        let probe = try run("/usr/bin/test", ["-w", path])
        guard probe.status == 0 else {
            throw EmbeddedPostgresError(
                "user '\(runAs.name)' cannot reach \(path): a parent directory is not searchable by it. "
                    + "Work in a directory other users can enter, or set DATABASE_URL.")
        }
    }

    /// Whether the cluster's user can enter `path` (search permission on it and every parent).
    func canEnter(_ path: String) -> Bool {
        guard runAs != nil else { return true }
        return (try? run("/usr/bin/test", ["-x", path]))?.status == 0
    }

    /// Runs a program (as the cluster's user when root) and returns its exit status and output.
    func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let argv = runAs.map { [Self.runuser, "-u", $0.name, "--", program] } ?? [program]
        return try Subprocess.run(argv + arguments)
    }

    private static let runuser =
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? "/usr/sbin/runuser"
}
