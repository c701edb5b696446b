import BillingCore
import BillingHTTP
import BillingService
import BillingStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Postgres
import TestSupport

/// A real receiver and query API over HTTP on a fresh, migrated database, with an API key.
struct ReceiverHarness: Sendable {
    let pool: PostgresPool
    let ingestor: EventIngestor
    let port: Int
    /// The database.
    let configuration: PostgresConfiguration
    /// A valid API token.
    let token: String

    static let secrets = [
        "FLEXPRICE_WEBHOOK_SECRETS": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "MINTFAX_WEBHOOK_SECRETS": "whsec_dGVzdCBzZWNyZXQgZm9yIG1pbnRmYXg=",
        "MINTCASH_WEBHOOK_SECRETS": "mintcash-merchant-secret",
    ]

    static func secret(_ provider: String) -> String { secrets["\(provider.uppercased())_WEBHOOK_SECRETS"]! }

    /// Runs `body` against a receiver on `configuration` (a fresh database when nil).
    static func run(
        environment: [String: String] = secrets, maximumBodyBytes: Int = 1 << 20, configuration: PostgresConfiguration? = nil,
        positionTimeout: Duration = .seconds(5), _ body: @Sendable (ReceiverHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        if let configuration {
            try await serve(configuration, environment: environment, maximumBodyBytes: maximumBodyBytes, positionTimeout: positionTimeout, body)
        } else {
            try await TestDatabase.withFreshDatabase { configuration in
                try await serve(configuration, environment: environment, maximumBodyBytes: maximumBodyBytes, positionTimeout: positionTimeout, body)
            }
        }
    }

    private static func serve(
        _ configuration: PostgresConfiguration, environment: [String: String], maximumBodyBytes: Int, positionTimeout: Duration,
        _ body: @Sendable (ReceiverHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        let logger = TestDatabase.logger
        let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 8, checkoutTimeout: .seconds(3)), logger: logger)
        try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: logger).migrate()
        let ingestor = EventIngestor(pool: pool, logger: logger)
        let keys = APIKeyStore(pool: pool)
        let token = try await keys.create(name: "tests").token
        // serve's own wiring of the receiver and the query API; this harness only runs the pool and
        // the ingestor, and skips /readyz's database checks.
        let settings = ServeSettings(
            host: "127.0.0.1", port: 0, roles: [.receiver, .api], database: configuration, secrets: try WebhookSecrets(environment: environment),
            maximumBodyBytes: maximumBodyBytes, positionTimeout: positionTimeout,
            // The live test client opens its connection at once and never reconnects: a test that seeds
            // and projects for longer than the idle timeout under load found it closed ("I/O on closed channel").
            idleTimeout: .seconds(600))
        let app = BillingService.application(
            settings, pool: pool, queryPool: pool, ingestor: ingestor, readiness: { DatabaseHealth.Report(reachable: true, migrated: true) },
            metrics: BillingService.metrics(), logger: logger)
        do {
            try await app.test(.live) { client in
                try await body(
                    ReceiverHarness(pool: pool, ingestor: ingestor, port: client.port!, configuration: configuration, token: token), client)
            }
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
    }

    /// Posts `body` with `headers` (plus `content-type: application/json` unless given).
    static func post(
        _ client: any TestClientProtocol, _ path: String, body: String, headers: [String: String]
    ) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
        try await post(client, path, bytes: Array(body.utf8), headers: headers)
    }

    static func post(
        _ client: any TestClientProtocol, _ path: String, bytes: [UInt8], headers: [String: String]
    ) async throws -> (status: HTTPResponse.Status, body: String, headers: HTTPFields) {
        var fields = HTTPFields()
        if headers["content-type"] == nil { fields[.contentType] = "application/json" }
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return try await client.execute(uri: path, method: .post, headers: fields, body: ByteBuffer(bytes: bytes)) { response in
            (response.status, String(buffer: response.body), response.headers)
        }
    }

    /// Posts on a connection of its own (for concurrent deliveries).
    func postOnNewConnection(_ path: String, body: String, headers: [String: String]) async throws -> (status: HTTPResponse.Status, body: String) {
        let client = TestClient(
            host: "127.0.0.1", port: port, configuration: .init(), eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton))
        client.connect()
        var fields: HTTPFields = [.contentType: "application/json"]
        for (name, value) in headers { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        do {
            let response = try await client.execute(.init(path, method: .post, headers: fields, body: ByteBuffer(string: body)))
            try await client.shutdown()
            return (response.head.status, response.body.map { String(buffer: $0) } ?? "")
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A signed delivery of `body` for `provider`.
    static func signed(_ provider: String, _ body: String, id: String = "msg_\(UUID().uuidString)", timestamp: Int? = nil) -> [String: String] {
        WebhookSigner.headers(
            provider: provider, secret: secret(provider), body: Array(body.utf8), id: id,
            timestamp: timestamp ?? Int(Date().timeIntervalSince1970))
    }

    /// Rows in `billing.events`.
    func eventCount() async throws -> Int {
        try await pool.query("SELECT count(*) FROM billing.events").first!.decode(Int.self, at: 0)
    }

    /// Rows in `billing.quarantine`.
    func quarantineCount() async throws -> Int {
        try await pool.query("SELECT count(*) FROM billing.quarantine").first!.decode(Int.self, at: 0)
    }

    /// The delivery log, oldest first, as (provider, outcome, status, reason), the status as the
    /// analysts' view derives it from the outcome.
    func deliveries() async throws -> [(String, String, Int, String?)] {
        await ingestor.flush()
        return try await pool.query(
            "SELECT provider, outcome, http_status, reason FROM analytics.deliveries ORDER BY delivery_log_id"
        ).map {
            try $0.decode((String, String, Int, String?).self)
        }
    }
}
