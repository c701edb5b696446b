import Foundation
import Logging
import Postgres

/// Applies migrations in order, each in its own transaction, recording name and checksum in
/// `billing_schema_migrations`. A session-level advisory lock makes concurrent runs (many
/// instances starting at once) apply each migration exactly once.
public struct MigrationRunner: Sendable {
    /// The advisory lock key: ASCII "billmigr", shared by every instance of the service.
    public static let lockKey: Int64 = 0x6269_6C6C_6D69_6772

    /// What is applied and what is not.
    public struct Status: Sendable, Equatable {
        /// Applied versions known to this build.
        public var applied: [Int]
        /// Versions this build has that the database does not.
        public var pending: [Int]
        /// Applied versions whose file changed since.
        public var edited: [Int]
        /// Applied versions this build does not know (a newer build migrated the database).
        public var unknown: [Int]
        /// True when nothing is pending or edited.
        public var isCurrent: Bool { pending.isEmpty && edited.isEmpty }
    }

    private let pool: PostgresPool
    private let migrations: [Migration]
    private let logger: Logger

    /// Creates a runner for `migrations` (usually ``Migration/bundled()``).
    public init(pool: PostgresPool, migrations: [Migration], logger: Logger) {
        self.pool = pool
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies every pending migration and returns the ones it applied. Refuses to run if an
    /// applied migration's file was edited.
    @discardableResult
    public func migrate() async throws -> [Migration] {
        try await pool.withConnection { connection in
            // Polled rather than waited for in `pg_advisory_lock`: a waiting statement holds a
            // snapshot, and `CREATE INDEX CONCURRENTLY` in the holder's migration waits for every
            // older snapshot in the database — the two would wait on each other.
            while try await !connection.query("SELECT pg_try_advisory_lock(\(Self.lockKey))").first!.decode(Bool.self, at: 0) {
                try await Task.sleep(for: .milliseconds(50))
            }
            do {
                let applied = try await apply(on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
                return applied
            } catch {
                // Unlock if the session still lives; a dead session released the lock already.
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
                throw error
            }
        }
    }

    /// Compares the database with this build's migrations without changing anything.
    public func status() async throws -> Status {
        try await pool.withConnection { connection in try await status(on: connection) }
    }

    private func apply(on connection: PostgresConnection) async throws -> [Migration] {
        _ = try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS billing_schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                duration_ms integer NOT NULL
            )
            """)
        let current = try await status(on: connection)
        if let version = current.edited.first, let migration = migrations.first(where: { $0.version == version }) {
            throw MigrationError(
                code: .checksumMismatch,
                message: "migration \(migration.name) was edited after it was applied; migrations are forward-only: "
                    + "restore the file and add a new migration instead")
        }
        if !current.unknown.isEmpty {
            logger.warning(
                "the database has migrations this build does not know; a newer version migrated it",
                metadata: ["versions": "\(current.unknown)"])
        }
        var applied: [Migration] = []
        for migration in migrations where current.pending.contains(migration.version) {
            let clock = ContinuousClock()
            let start = clock.now
            // The record is written in the migration's own transaction, after its SQL ran, so the
            // duration is known; for transactional files a crash never leaves one applied but unrecorded.
            let apply = { (connection: PostgresConnection) async throws -> Int in
                for statement in migration.statements { try await connection.simpleQuery(unsafeSQL: statement) }
                let milliseconds = Int((clock.now - start) / .milliseconds(1))
                try await connection.query(
                    """
                    INSERT INTO billing_schema_migrations (version, name, checksum, duration_ms)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum), \(milliseconds))
                    """)
                return milliseconds
            }
            let milliseconds =
                migration.transactional
                ? try await connection.withTransaction { try await apply($0) }
                : try await apply(connection)
            logger.info("applied migration", metadata: ["migration": "\(migration.name)", "ms": "\(milliseconds)"])
            applied.append(migration)
        }
        return applied
    }

    private func status(on connection: PostgresConnection) async throws -> Status {
        let rows: [(Int, String)]
        do {
            rows = try await connection.query("SELECT version, checksum FROM billing_schema_migrations ORDER BY version")
                .decode((Int, String).self)
        } catch PostgresError.Code.undefinedTable {
            rows = []
        }
        let recorded = Dictionary(rows, uniquingKeysWith: { first, _ in first })
        let known = Set(migrations.map(\.version))
        return Status(
            applied: migrations.filter { recorded[$0.version] == $0.checksum }.map(\.version),
            pending: migrations.filter { recorded[$0.version] == nil }.map(\.version),
            edited: migrations.filter { migration in recorded[migration.version].map { $0 != migration.checksum } ?? false }
                .map(\.version),
            unknown: recorded.keys.filter { !known.contains($0) }.sorted())
    }
}
