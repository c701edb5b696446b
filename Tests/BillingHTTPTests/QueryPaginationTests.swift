import BillingCore
import BillingHTTP
import BillingStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

/// Keyset pagination, cursors, authentication and read-your-writes of the query API.
@Suite struct QueryPaginationTests {
    /// 10,000 payments, four to each created_at so the id tiebreak matters.
    static func seedPayments(_ harness: ReceiverHarness) async throws {
        try await harness.pool.query(
            """
            INSERT INTO billing.payments (id, provider, environment, provider_id, status, amount, currency, first_seen_at, updated_at, created_at)
            SELECT gen_random_uuid(), 'mintcash', 'live', 'pay_' || g, CASE WHEN g % 3 = 0 THEN 'failed' ELSE 'succeeded' END, g, 'USD', ts, ts, ts
            FROM generate_series(1, 10000) AS g, LATERAL (SELECT timestamptz '2026-01-01' + (g / 4) * interval '1 second' AS ts) AS t
            """)
    }

    @Test(arguments: [false, true])
    func pagesOf37ReturnEveryRowOnceInOrderWhileInsertsContinue(ascending: Bool) async throws {
        try await ReceiverHarness.run { harness, client in
            try await Self.seedPayments(harness)
            let original = Set(try await harness.pool.query("SELECT id::text FROM billing.payments").decodeColumn(String.self))
            // Rows keep arriving before, inside and after the range being paged.
            let writer = Task {
                var inserted = 0
                while !Task.isCancelled {
                    do {
                        try await harness.pool.query(
                            """
                            INSERT INTO billing.payments (id, provider, environment, provider_id, status, first_seen_at, updated_at, created_at)
                            SELECT gen_random_uuid(), 'mintcash', 'live', 'late_' || gen_random_uuid(), 'succeeded', ts, ts, ts
                            FROM (SELECT timestamptz '2025-12-31' + random() * interval '2 days' AS ts FROM generate_series(1, 5)) AS s
                            """)
                    } catch  where Task.isCancelled {
                        break  // stopped mid-insert: the statement was cancelled
                    }
                    inserted += 5
                    try? await Task.sleep(for: .milliseconds(5))
                }
                return inserted
            }
            let rows = try await harness.pageThrough(client, "/v1/payments" + (ascending ? "?order=asc" : ""), limit: 37)
            writer.cancel()
            let inserted = try await writer.value
            let ids = rows.map { $0["id"] as! String }
            #expect(Set(ids).count == ids.count, "no row twice")
            #expect(original.isSubset(of: Set(ids)), "every row that existed before paging began")
            // Strictly ordered by (created_at, id) in the requested direction.
            let keys = rows.map { (Self.micros($0["created_at"] as! String), $0["id"] as! String) }
            for (a, b) in zip(keys, keys.dropFirst()) {
                #expect(ascending ? a < b : a > b)
            }
            #expect(inserted > 0)
        }
    }

    static func micros(_ text: String) -> Int64 { EventTimestamp.microseconds(iso8601: text)! }

    @Test func cursorsAreTamperEvidentAndBoundToTheirFilters() async throws {
        try await ReceiverHarness.run { harness, client in
            try await Self.seedPayments(harness)
            let first = try await harness.get(client, "/v1/payments?provider=mintcash&status=succeeded&limit=5")
            let cursor = try #require(try first.nextCursor())
            // The same filters in another order are the same filters.
            let next = try await harness.get(client, "/v1/payments?status=succeeded&limit=5&provider=mintcash&cursor=\(cursor)")
            #expect(next.status == .ok)
            #expect(Set(try next.data().map { $0["id"] as! String }).isDisjoint(with: try first.data().map { $0["id"] as! String }))

            var tampered: [String] = []
            for index in [2, cursor.utf8.count / 2, cursor.utf8.count - 2] {
                var bytes = Array(cursor.utf8)
                bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
                tampered.append(String(decoding: bytes, as: UTF8.self))
            }
            tampered.append(String(cursor.dropLast(4)))
            tampered.append(cursor + "A")
            for bad in tampered {
                let answer = try await harness.get(client, "/v1/payments?provider=mintcash&status=succeeded&cursor=\(bad)")
                #expect(answer.status == .badRequest)
                #expect(try answer.json()["code"] as? String == "invalid_cursor")
            }
            for other in [
                "/v1/payments?provider=mintcash&status=failed", "/v1/payments?provider=mintcash", "/v1/payments",
                "/v1/payments?provider=mintcash&status=succeeded&order=asc", "/v1/subscriptions?provider=mintcash&status=active",
                "/v1/customers?provider=mintcash",
            ] {
                let answer = try await harness.get(client, other + (other.contains("?") ? "&" : "?") + "cursor=\(cursor)")
                #expect(answer.status == .badRequest, "\(other)")
                #expect(try answer.json()["code"] as? String == "cursor_mismatch", "\(other)")
            }
        }
    }

    @Test func bearerTokensAreRequiredAndRevocationIsImmediate() async throws {
        try await ReceiverHarness.run { harness, client in
            let missing = try await harness.get(client, "/v1/payments", authorization: "")
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(try missing.json()["code"] as? String == "missing_token")
            for header in [
                "Basic dXNlcjpwYXNz", "Bearer", "Bearer wrong", "Bearer bek_\(String(repeating: "A", count: 43))", "Bearer \(harness.token)x",
            ] {
                let answer = try await harness.get(client, "/v1/payments", authorization: header)
                #expect(answer.status == .unauthorized, "\(header)")
            }
            #expect(try await harness.get(client, "/v1/payments", authorization: "bearer \(harness.token)").status == .ok)
            #expect(try await harness.get(client, "/livez", authorization: "").status == .ok)
            let delete = try await client.execute(
                uri: "/v1/payments", method: .delete, headers: [.authorization: "Bearer \(harness.token)"], body: nil
            ) {
                ($0.status, $0.headers[.allow])
            }
            #expect(delete.0 == .methodNotAllowed && delete.1 == "GET, HEAD")

            let keys = APIKeyStore(pool: harness.pool)
            let (key, token) = try await keys.create(name: "short-lived")
            #expect(try await harness.get(client, "/v1/customers", authorization: "Bearer \(token)").status == .ok)
            // The use is recorded in the background, off the request's path.
            var listed = try #require(try await keys.list().first { $0.id == key.id })
            for _ in 0..<100 where listed.lastUsedAt == nil {
                try await Task.sleep(for: .milliseconds(20))
                listed = try #require(try await keys.list().first { $0.id == key.id })
            }
            #expect(listed.lastUsedAt != nil)
            #expect(listed.prefix == String(token.prefix(12)))
            #expect(try await keys.revoke(key.prefix)?.revokedAt != nil)
            #expect(try await harness.get(client, "/v1/customers", authorization: "Bearer \(token)").status == .unauthorized)
            #expect(try await harness.get(client, "/v1/customers").status == .ok, "other keys still work")
            #expect(try await keys.revoke("bek_nosuchkey") == nil)
        }
    }

    @Test func minPositionWaitsForTheProjectionsThenAnswers() async throws {
        // The projector may be held back by other suites' open transactions on the shared server;
        // the waiting request goes over a raw socket because the test client gives up after 15 s.
        try await ReceiverHarness.run(positionTimeout: .seconds(50)) { harness, client in
            _ = try await harness.seedHistory(seed: 3, entities: 4)
            let position = try await harness.pool.query("SELECT max(position) FROM billing.events").first!.decode(Int64.self, at: 0)
            let before = try await harness.get(client, "/v1/payments")
            #expect(before.position == 0)
            #expect(try before.data().isEmpty)
            let started = ContinuousClock.now
            let projector = Task {
                try await Task.sleep(for: .milliseconds(500))
                try await harness.project()
            }
            let raw = try await RawHTTP.send(
                port: harness.port, path: "/v1/payments?min_position=\(position)", headers: [("Authorization", "Bearer \(harness.token)")],
                timeout: 60)
            let answer = QueryAnswer(
                status: HTTPResponse.Status(code: raw.status), body: raw.text,
                headers: HTTPFields(raw.headers.compactMap { name, value in HTTPField.Name(name).map { HTTPField(name: $0, value: value) } }))
            #expect(answer.status == .ok)
            #expect(ContinuousClock.now - started >= .milliseconds(500))
            #expect(try !answer.data().isEmpty, "the wait ended after the payments were projected")
            #expect((answer.position ?? 0) >= position)
            try await projector.value
            let object = try await harness.get(client, "/v1/payments/\(try answer.data()[0]["id"] as! String)?min_position=\(position)")
            #expect(object.status == .ok)
        }
    }

    @Test func minPositionGivesUpWith503() async throws {
        try await ReceiverHarness.run(positionTimeout: .milliseconds(300)) { harness, client in
            _ = try await harness.seedHistory(seed: 5, entities: 2)
            let answer = try await harness.get(client, "/v1/customers?min_position=1")
            #expect(answer.status == .serviceUnavailable)
            #expect(answer.headers[.retryAfter] != nil)
            #expect(try answer.json()["code"] as? String == "position_not_reached")
            #expect(try await harness.get(client, "/v1/customers?min_position=0").status == .ok)
        }
    }
}
