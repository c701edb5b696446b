import BillingCore
import BillingHTTP
import BillingStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import TestSupport
import Testing

/// A GET answer of the query API.
struct QueryAnswer {
    var status: HTTPResponse.Status
    var body: String
    var headers: HTTPFields

    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "not a JSON object: \(body)")
    }

    /// `data` of a list.
    func data() throws -> [[String: Any]] { try #require(try json()["data"] as? [[String: Any]]) }

    /// `next_cursor` of a list.
    func nextCursor() throws -> String? { try json()["next_cursor"] as? String }

    /// The `Billing-Events-Position` header.
    var position: Int64? { headers[QueryController<AppRequestContext>.positionHeader].flatMap { Int64($0) } }
}

extension ReceiverHarness {
    /// GETs `path` with the harness token (or `token`, or none when `authorization` is "").
    func get(_ client: any TestClientProtocol, _ path: String, authorization: String? = nil) async throws -> QueryAnswer {
        var headers = HTTPFields()
        let authorization = authorization ?? "Bearer \(token)"
        if !authorization.isEmpty { headers[.authorization] = authorization }
        return try await client.execute(uri: path, method: .get, headers: headers, body: nil) { response in
            QueryAnswer(status: response.status, body: String(buffer: response.body), headers: response.headers)
        }
    }

    /// Every row of a list, following `next_cursor` with pages of `limit`.
    func pageThrough(_ client: any TestClientProtocol, _ path: String, limit: Int) async throws -> [[String: Any]] {
        var rows: [[String: Any]] = []
        var cursor: String?
        let separator = path.contains("?") ? "&" : "?"
        repeat {
            let page = try await get(client, path + separator + "limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(page.status == .ok, "\(page.body)")
            let data = try page.data()
            rows += data
            cursor = try page.nextCursor()
            #expect((try page.json()["has_more"] as? Bool) == (cursor != nil))
            #expect(cursor == nil || data.count == limit)
        } while cursor != nil
        return rows
    }

    /// Stores `count` generated deliveries of all three providers through the ingestor.
    func seedHistory(seed: UInt64, entities: Int) async throws -> Int {
        var generator = HistoryGenerator(seed: seed)
        let deliveries = generator.history(entities: entities)
        for generated in deliveries { _ = try await ingest(generated) }
        return deliveries.count
    }

    /// Verifies nothing (the generator vouches for the bytes), normalizes like the receiver and hands
    /// the delivery to the ingestor: stored, duplicate, or quarantined when it is not understood;
    /// recorded in the delivery log as the receiver records it.
    func ingest(_ generated: GeneratedDelivery) async throws -> IngestOutcome {
        let delivery = IncomingDelivery(
            provider: Provider(rawValue: generated.provider)!, environment: ProviderEnvironment(rawValue: generated.environment)!,
            environmentIsExplicit: generated.provider != "mintcash", body: Array(generated.body.utf8), deliveryID: generated.deliveryID,
            signatureHeaders: ["webhook-signature": "v1,test"], secretFingerprint: "0123456789ab")
        let record = DeliveryRecord(
            receivedAt: Date(), provider: generated.provider, environment: generated.environment, outcome: .stored,
            bodyBytes: delivery.body.count)
        let submission: IntakeResult
        do {
            submission = .event(try EventNormalizer.normalize(delivery), delivery)
        } catch {
            submission = .quarantine(error, delivery)
        }
        return try await ingestor.ingest(submission, record: record)
    }

    /// Runs the projector until every projection has passed the whole log.
    func project() async throws {
        let projector = Projector(
            configuration: configuration, options: ProjectionOptions(batchSize: 500, pollInterval: .milliseconds(100)), logger: TestDatabase.logger)
        let task = Task { try await projector.run() }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(60)
        while try await ProjectionStatus.load(on: pool).contains(where: { $0.eventsBehind > 0 }) {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        _ = await task.result
    }

    /// One integer from SQL.
    func count(_ sql: String) async throws -> Int {
        try await pool.query(PostgresQuery(unsafeSQL: sql)).first!.decode(Int.self, at: 0)
    }
}
