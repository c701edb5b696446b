import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct MigrationRunnerTests {
    private func files(_ entries: [String: String]) throws -> URL {
        let directory = URL(fileURLWithPath: TestDatabase.makeScratchDirectory())
        for (name, sql) in entries {
            try Data(sql.utf8).write(to: directory.appendingPathComponent(name))
        }
        return directory
    }

    @Test func appliesInOrderOnceAndRecordsChecksums() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let pool = PostgresPool(configuration: configuration, logger: TestDatabase.logger)
            let directory = try files([
                "0002_items.sql": "ALTER TABLE things ADD COLUMN label text;",
                "0001_things.sql": "CREATE TABLE things (id int PRIMARY KEY);",
            ])
            let migrations = try Migration.load(directory: directory)
            #expect(migrations.map(\.version) == [1, 2])
            let runner = MigrationRunner(pool: pool, migrations: migrations, logger: TestDatabase.logger)
            #expect(try await runner.status().pending == [1, 2])
            #expect(try await runner.migrate().map(\.name) == ["0001_things", "0002_items"])
            #expect(try await runner.migrate().isEmpty)
            let status = try await runner.status()
            #expect(status.applied == [1, 2] && status.isCurrent)
            let recorded = try await pool.query("SELECT name, checksum FROM billing_schema_migrations ORDER BY version")
                .decode((String, String).self)
            #expect(recorded.map(\.0) == ["0001_things", "0002_items"])
            #expect(recorded[0].1 == migrations[0].checksum && recorded[0].1.count == 64)
            try await pool.query("INSERT INTO things (id, label) VALUES (1, 'x')")
            await pool.close()
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let pool = PostgresPool(configuration: configuration, logger: TestDatabase.logger)
            let directory = try files([
                "0001_ok.sql": "CREATE TABLE ok (id int);",
                "0002_broken.sql": "CREATE TABLE half (id int); SELECT * FROM missing_table;",
            ])
            let runner = MigrationRunner(pool: pool, migrations: try Migration.load(directory: directory), logger: TestDatabase.logger)
            let error = await #expect(throws: PostgresError.self) { try await runner.migrate() }
            #expect(error?.code == .undefinedTable)
            #expect(try await runner.status().pending == [2])
            let half = try await pool.query("SELECT to_regclass('half') IS NULL").first?.decode(Bool.self, at: 0)
            #expect(half == true)
            await pool.close()
        }
    }

    @Test func refusesToRunWhenAnAppliedFileWasEdited() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let pool = PostgresPool(configuration: configuration, logger: TestDatabase.logger)
            let original = try files(["0001_t.sql": "CREATE TABLE t (id int);"])
            try await MigrationRunner(pool: pool, migrations: try Migration.load(directory: original), logger: TestDatabase.logger).migrate()
            let edited = try files(["0001_t.sql": "CREATE TABLE t (id bigint);", "0002_u.sql": "CREATE TABLE u (id int);"])
            let runner = MigrationRunner(pool: pool, migrations: try Migration.load(directory: edited), logger: TestDatabase.logger)
            let error = await #expect(throws: MigrationError.self) { try await runner.migrate() }
            #expect(error?.code == .checksumMismatch)
            #expect(error?.message.contains("0001_t") == true)
            let status = try await runner.status()
            #expect(status.edited == [1] && !status.isCurrent)
            // Nothing after the edited file ran.
            #expect(try await pool.query("SELECT to_regclass('u') IS NULL").first?.decode(Bool.self, at: 0) == true)
            await pool.close()
        }
    }

    @Test func concurrentRunnersApplyEachMigrationOnce() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let directory = try files([
                "0001_a.sql": "CREATE TABLE a (id int); SELECT pg_sleep(0.2);",
                "0002_b.sql": "CREATE TABLE b (id int);",
            ])
            #expect(try await Self.migrateAtOnce(6, try Migration.load(directory: directory), configuration) == 2)
        }
    }

    /// Runners that wait for the lock must not hold a snapshot meanwhile: the holder's
    /// `CREATE INDEX CONCURRENTLY` (0007) waits for every older snapshot in the database.
    @Test func theBundledMigrationsApplyOnceFromManyRunnersAtOnce() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let migrations = try Migration.bundled()
            #expect(try await Self.migrateAtOnce(4, migrations, configuration) == migrations.count)
        }
    }

    /// Runs `runners` runners of `migrations` at once, each with a pool of its own; the number applied.
    static func migrateAtOnce(_ runners: Int, _ migrations: [Migration], _ configuration: PostgresConfiguration) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<runners {
                group.addTask {
                    let pool = PostgresPool(configuration: configuration, logger: TestDatabase.logger)
                    let count = try await MigrationRunner(pool: pool, migrations: migrations, logger: TestDatabase.logger).migrate().count
                    await pool.close()
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
    }

    @Test func rejectsBadFileNamesAndDuplicateVersions() throws {
        #expect(throws: MigrationError.self) { try Migration(fileName: "1_short.sql", contents: Data()) }
        #expect(throws: MigrationError.self) { try Migration(fileName: "0001.sql", contents: Data()) }
        #expect(throws: MigrationError.self) { try Migration(fileName: "0001_x.txt", contents: Data()) }
        let directory = try files(["0001_a.sql": "", "0001_b.sql": ""])
        #expect(throws: MigrationError.self) { try Migration.load(directory: directory) }
        let noTransaction = try Migration(
            fileName: "0003_index.sql", contents: Data("-- billing-events: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);".utf8))
        #expect(!noTransaction.transactional)
    }

    @Test func aNoTransactionFileRunsStatementByStatement() throws {
        let sql = """
            -- billing-events: no-transaction
            -- a comment; with a semicolon
            DO $$
            BEGIN
                PERFORM 1;
            END $$;
            CREATE INDEX CONCURRENTLY IF NOT EXISTS a
                ON t (x);
            DROP INDEX CONCURRENTLY IF EXISTS b;
            -- trailing comment
            """
        let migration = try Migration(fileName: "0009_split.sql", contents: Data(sql.utf8))
        #expect(migration.statements.count == 3)
        #expect(migration.statements[0].contains("PERFORM 1;") && migration.statements[0].hasSuffix("END $$;\n"))
        #expect(migration.statements[1].hasPrefix("CREATE INDEX") && migration.statements[1].hasSuffix("ON t (x);\n"))
        #expect(migration.statements[2] == "DROP INDEX CONCURRENTLY IF EXISTS b;\n")
        let whole = try Migration(fileName: "0009_whole.sql", contents: Data("SELECT 1;\nSELECT 2;\n".utf8))
        #expect(whole.statements == ["SELECT 1;\nSELECT 2;\n"])
    }

    /// 0007 builds its indexes concurrently, outside a transaction, so an interruption can leave
    /// one INVALID; the next run must replace it with the real index.
    @Test func theListIndexMigrationRecoversFromAnInterruptedBuild() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let pool = PostgresPool(configuration: configuration, logger: TestDatabase.logger)
            let migrations = try Migration.bundled()
            try await MigrationRunner(pool: pool, migrations: migrations.filter { $0.version < 7 }, logger: TestDatabase.logger).migrate()
            try await pool.query(
                """
                INSERT INTO billing.customers (id, provider, environment, provider_id, first_seen_at, updated_at, created_at)
                SELECT gen_random_uuid(), 'mintcash', 'live', 'c' || g, now(), now(), now() FROM generate_series(1, 2) AS g
                """)
            // A concurrent build that fails (duplicate keys) leaves its index behind, INVALID.
            await #expect(throws: PostgresError.self) {
                try await pool.query("CREATE UNIQUE INDEX CONCURRENTLY customers_list ON billing.customers (provider)")
            }
            let runner = MigrationRunner(pool: pool, migrations: migrations, logger: TestDatabase.logger)
            try await runner.migrate()
            #expect(try await runner.status().isCurrent)
            let indexes = try await pool.query(
                """
                SELECT c.relname || ' ' || i.indisvalid || ' ' || pg_get_indexdef(i.indexrelid) FROM pg_index i
                JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class r ON r.oid = i.indrelid
                WHERE r.relname = 'customers' AND r.relnamespace = 'billing'::regnamespace ORDER BY 1
                """
            ).decodeColumn(String.self)
            #expect(indexes.contains { $0.hasPrefix("customers_list true") && $0.hasSuffix("(provider, environment, created_at, id)") })
            #expect(!indexes.contains { $0.contains(" false ") }, "\(indexes)")
            #expect(!indexes.contains { $0.hasPrefix("customers_created ") || $0.hasPrefix("customers_provider ") })
            await pool.close()
        }
    }

    @Test func theBundledMigrationsApplyToAnEmptyDatabase() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let pool = PostgresPool(configuration: configuration, logger: TestDatabase.logger)
            let migrations = try Migration.bundled()
            #expect(migrations.first?.version == 1)
            let runner = MigrationRunner(pool: pool, migrations: migrations, logger: TestDatabase.logger)
            try await runner.migrate()
            #expect(try await runner.status().isCurrent)
            // The 2 s default is for a probe; a test machine running every suite at once may be slower.
            let health = await DatabaseHealth(runner: runner).check(timeout: .seconds(30))
            #expect(health.isReady, "\(health)")
            await pool.close()
        }
    }

    @Test func healthReportsPendingMigrationsAndAnUnreachableDatabase() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let pool = PostgresPool(configuration: configuration, logger: TestDatabase.logger)
            let pending = await DatabaseHealth(
                runner: MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: TestDatabase.logger)
            ).check(timeout: .seconds(30))
            #expect(pending.reachable && !pending.migrated)
            #expect(pending.reason?.contains("pending") == true)
            await pool.close()
        }
        let nowhere = PostgresPool(
            configuration: PostgresConfiguration(connectionString: "host=/nonexistent port=1 user=x dbname=x"),
            logger: TestDatabase.logger)
        let down = await DatabaseHealth(
            runner: MigrationRunner(pool: nowhere, migrations: try Migration.bundled(), logger: TestDatabase.logger)
        ).check(timeout: .seconds(30))
        #expect(!down.reachable && !down.isReady)
        #expect(down.reason?.contains("unreachable") == true)
    }
}
