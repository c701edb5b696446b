import BillingCore
import Foundation
import Postgres
import TestSupport

@testable import BillingStore

/// A generated delivery as the receiver would have built and normalized it.
func intake(_ generated: GeneratedDelivery) throws -> (event: NormalizedEvent, delivery: IncomingDelivery) {
    let delivery = IncomingDelivery(
        provider: Provider(rawValue: generated.provider)!, environment: ProviderEnvironment(rawValue: generated.environment)!,
        environmentIsExplicit: generated.provider != "mintcash", body: Array(generated.body.utf8), deliveryID: generated.deliveryID,
        signatureHeaders: ["webhook-signature": "v1,test"], secretFingerprint: "0123456789ab")
    return (try EventNormalizer.normalize(delivery), delivery)
}

/// Every row of every read-model table in `schema`, as JSON text ordered by id (dead letters too).
func dumpReadModels(schema: String, on connection: isolated PostgresConnection) throws -> [String] {
    var rows: [String] = []
    for table in ReadModelTable.allCases.map(\.rawValue) {
        rows += try connection.execute(PostgresQuery(unsafeSQL: "SELECT '\(table) ' || row_to_json(t)::text FROM \(schema).\(table) t ORDER BY id"))
            .decodeColumn(String.self)
    }
    for table in ReadModelTable.allCases.compactMap(\.versionTable) {
        rows += try connection.execute(
            PostgresQuery(
                unsafeSQL: """
                    SELECT '\(table) ' || row_to_json(t)::text FROM \(schema).\(table) t ORDER BY id, register, event_id
                    """)
        ).decodeColumn(String.self)
    }
    rows += try connection.execute(
        PostgresQuery(
            unsafeSQL: """
                SELECT 'dead ' || projection || ' ' || event_id || ' ' || error FROM \(schema).projection_dead_letters ORDER BY projection, event_id
                """)
    ).decodeColumn(String.self)
    return rows
}

/// Stores each delivery in the log as the receiver does, one transaction each.
func store(_ items: [(event: NormalizedEvent, delivery: IncomingDelivery)], in pool: PostgresPool) async throws {
    try await pool.withConnection { connection in
        try await connection.perform { connection in
            for item in items {
                _ = try connection.transaction { try EventIngestor.store(.event(item.event, item.delivery), on: connection) }
            }
        }
    }
}

/// Waits until every projection's checkpoint has passed the whole log (at most `timeout`).
func waitUntilProjected(_ pool: PostgresPool, timeout: Duration = .seconds(30)) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let behind = try await ProjectionStatus.load(on: pool).reduce(0) { $0 + $1.eventsBehind }
        if behind == 0 { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw ProjectionTestTimeout()
}

/// The projections did not catch up in time.
struct ProjectionTestTimeout: Error {}

/// Fast runner options for tests.
func testProjectionOptions(batchSize: Int = 100, owner: String = "test") -> ProjectionOptions {
    ProjectionOptions(
        batchSize: batchSize, pollInterval: .milliseconds(200), maxAttempts: 3, retryBackoff: .milliseconds(10),
        standbyInterval: .milliseconds(100), owner: owner)
}

/// Runs `body` while a projector works on `pool`'s database.
func withProjector<T>(
    _ pool: PostgresPool, options: ProjectionOptions = testProjectionOptions(), _ body: () async throws -> T
) async throws -> T {
    let projector = Projector(configuration: pool.configuration, options: options, logger: TestDatabase.logger)
    let task = Task { try await projector.run() }
    defer { task.cancel() }
    let value = try await body()
    task.cancel()
    _ = await task.result
    return value
}
