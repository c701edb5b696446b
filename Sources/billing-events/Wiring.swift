import ArgumentParser
import BillingCore
import BillingService
import BillingStore
import Foundation
import Logging
import Metrics
import Postgres
import Prometheus
import ServiceLifecycle

/// The process-wide logger; the handler (text or JSON) and level come from `LOG_FORMAT` and
/// `LOG_LEVEL`, installed on first use.
func makeLogger() -> Logger {
    LogOutput.bootstrap
    return Logger(label: "billing-events")
}

/// Installs the service's Prometheus factory as the process-wide swift-metrics backend (for
/// libraries that record through it) and returns the metrics `serve` uses.
func makeMetrics() -> BillingService.Metrics {
    let metrics = BillingService.metrics()
    MetricsSystem.bootstrap(metrics.factory)
    return metrics
}

/// Runs what ``BillingService/services(_:metrics:logger:)`` wires until SIGTERM or SIGINT.
func runServe(_ settings: ServeSettings, logger: Logger) async throws {
    let group = try await BillingService.services(settings, metrics: makeMetrics(), logger: logger)
    try await group.run()
    logger.info("stopped")
}

/// Runs an operator command's body with a small pool, closed afterwards; `sessionWork` names a
/// command that needs a session of its own (see ``DatabaseOptions/resolve(logger:session:sessionWork:)``).
func withPool(_ database: DatabaseOptions, sessionWork: String? = nil, _ body: (PostgresPool) async throws -> Void) async throws {
    let logger = makeLogger()
    let configuration = try await database.resolve(logger: logger, sessionWork: sessionWork)
    try await PostgresPool.withPool(configuration, options: .init(maxConnections: 2), logger: logger, body)
}

/// Applies pending migrations, or only reports them.
func runMigrate(database: DatabaseOptions, statusOnly: Bool) async throws {
    try await withPool(database, sessionWork: statusOnly ? nil : "migrate") { pool in
        let runner = MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: makeLogger())
        if statusOnly {
            let status = try await runner.status()
            let list = { (versions: [Int]) in versions.map(String.init).joined(separator: ", ") }
            print("applied: \(list(status.applied))")
            print("pending: \(list(status.pending))")
            if !status.edited.isEmpty { print("edited after applying: \(list(status.edited))") }
            if !status.unknown.isEmpty { print("unknown to this build: \(list(status.unknown))") }
        } else {
            let applied = try await runner.migrate()
            print(applied.isEmpty ? "database is up to date" : "applied \(applied.map(\.name).joined(separator: ", "))")
            let created = try await pool.perform { try EventPartitions.ensure(on: $0) }
            if created > 0 { print("created \(created) log partition\(created == 1 ? "" : "s")") }
        }
    }
}

/// Imports `files` one after the other (migrating the database first), with live progress on
/// standard error. `database` nil is a dry run: nothing is opened or written.
func runBackfill(files: [String], options: BackfillOptions, database: DatabaseOptions?) async throws -> [BackfillFileReport] {
    let logger = makeLogger()
    var configuration: PostgresConfiguration?
    if let database {
        try await withPool(database, sessionWork: "backfill") { pool in
            try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: logger).migrate()
            configuration = pool.configuration
        }
    }
    let importer = BackfillImporter(configuration: configuration, options: options, logger: logger)
    var reports: [BackfillFileReport] = []
    for file in files {
        let display = BackfillProgressDisplay()
        defer { display.finish() }
        do {
            reports.append(try await importer.importFile(file) { display.update($0) })
        } catch let error as BackfillError where error.code == .concurrentRun {
            // Said once, here: the command exits 1 without the argument parser repeating it.
            display.finish()
            FileHandle.standardError.write(Data("backfill of \(file): \(error.message)\n".utf8))
            throw ExitCode.failure
        } catch {
            display.finish()
            FileHandle.standardError.write(
                Data(
                    """
                    backfill of \(file) stopped: \(error)
                    the batches before this point are committed; run the same command again to continue from there

                    """.utf8))
            // A server error goes on to `reportingErrors` for its detail; anything else was said in full.
            if PostgresError.cause(of: error) != nil { throw error }
            throw ExitCode.failure
        }
    }
    return reports
}

/// Runs a command body; a failure is printed in full (error descriptions are redacted for logs,
/// but the operator at the terminal needs the server's message) and exits with status 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error where PostgresError.cause(of: error) != nil {
        let error = PostgresError.cause(of: error)!
        FileHandle.standardError.write(
            Data(
                "error: \(error.message) (SQLSTATE \(error.code))\(error.detail.map { "\n  detail: \($0)" } ?? "")\(error.hint.map { "\n  hint: \($0)" } ?? "")\n"
                    .utf8))
        throw ExitCode.failure
    }
}
