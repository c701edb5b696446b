import BillingCore
import BillingStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

/// The receiver against a real PostgreSQL, over real HTTP, for each provider.
@Suite struct WebhookReceiverTests {
    static let providers = ["flexprice", "mintfax", "mintcash"]

    /// A valid, understood body for `provider` with fresh ids, and its signed headers.
    static func delivery(_ provider: String, timestamp: Int? = nil) -> (body: String, headers: [String: String]) {
        let unique = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        switch provider {
        case "flexprice":
            let body = ProviderFixtures.flexpricePayment(id: "pay_\(unique)")
            return (body, ReceiverHarness.signed(provider, body, timestamp: timestamp))
        case "mintfax":
            let id = "evt_\(unique.prefix(22))"
            let body = ProviderFixtures.mintfaxFax(id: id)
            return (body, ReceiverHarness.signed(provider, body, id: id, timestamp: timestamp))
        default:
            let body = ProviderFixtures.mintcashPayment(eventID: UUID().uuidString.lowercased())
            return (body, ReceiverHarness.signed(provider, body))
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test(arguments: providers)
    func storesOnceAndAnswersDuplicateForTheSameDelivery(provider: String) async throws {
        try await ReceiverHarness.run { harness, client in
            let (body, headers) = Self.delivery(provider)
            let first = try await ReceiverHarness.post(client, "/webhooks/\(provider)", body: body, headers: headers)
            #expect(first.status == .ok)
            let stored = try Self.json(first.body)
            #expect(stored["status"] as? String == "stored")
            let second = try await ReceiverHarness.post(client, "/webhooks/\(provider)", body: body, headers: headers)
            let duplicate = try Self.json(second.body)
            #expect(second.status == .ok)
            #expect(duplicate["status"] as? String == "duplicate")
            #expect(duplicate["event_id"] as? String == stored["event_id"] as? String)
            #expect(try await harness.eventCount() == 1)

            let row = try #require(
                try await harness.pool.query(
                    "SELECT raw_body, channel, secret_fingerprint, signature_headers::text, id::text FROM billing.events"
                ).first)
            let (raw, channel, fingerprint, signatureHeaders, id) = try row.decode((Data, String, String, String, String).self)
            #expect(Array(raw) == Array(body.utf8))
            #expect(channel == "webhook")
            #expect(fingerprint == WebhookSecret(ReceiverHarness.secret(provider)).fingerprint)
            #expect(signatureHeaders.contains(provider == "mintcash" ? "x-signature" : "-signature"))
            #expect(id == stored["event_id"] as? String)
            #expect(try await harness.deliveries().map(\.1) == ["stored", "duplicate"])
        }
    }

    @Test(arguments: providers)
    func refusesTamperedWrongSecretAndMissingHeadersWithNothingStored(provider: String) async throws {
        try await ReceiverHarness.run { harness, client in
            let (body, headers) = Self.delivery(provider)
            let tampered = body.replacingOccurrences(of: "fax_01", with: "fax_02").replacingOccurrences(of: "49.99", with: "4999")
            let wrongSecret = WebhookSigner.headers(
                provider: provider, secret: provider == "mintcash" ? "other" : "whsec_b3RoZXIgc2VjcmV0", body: Array(body.utf8),
                id: headers["svix-id"] ?? headers["webhook-id"] ?? "x")
            for (sentBody, sentHeaders, code) in [
                (tampered, headers, "bad_signature"), (body, wrongSecret, "bad_signature"), (body, [:], "missing_headers"),
            ] {
                let response = try await ReceiverHarness.post(client, "/webhooks/\(provider)", body: sentBody, headers: sentHeaders)
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(try Self.json(response.body)["code"] as? String == code)
            }
            #expect(try await harness.eventCount() == 0)
            #expect(try await harness.quarantineCount() == 0)
            let log = try await harness.deliveries()
            #expect(log.map(\.1) == ["refused", "refused", "refused"])
            #expect(log.allSatisfy { $0.2 == 401 && ($0.3 ?? "").contains("signature") || ($0.3 ?? "").contains("missing_headers") })
        }
    }

    @Test(arguments: ["flexprice", "mintfax"])
    func refusesStaleAndFutureTimestamps(provider: String) async throws {
        try await ReceiverHarness.run { harness, client in
            let now = Int(Date().timeIntervalSince1970)
            for (offset, code) in [(-400, "stale_timestamp"), (400, "future_timestamp")] {
                let (body, headers) = Self.delivery(provider, timestamp: now + offset)
                let response = try await ReceiverHarness.post(client, "/webhooks/\(provider)", body: body, headers: headers)
                #expect(response.status == .unauthorized)
                #expect(try Self.json(response.body)["code"] as? String == code)
            }
            // Inside the tolerance both ways.
            for offset in [-200, 200] {  // margins wide enough for a slow test machine
                let (body, headers) = Self.delivery(provider, timestamp: now + offset)
                #expect(try await ReceiverHarness.post(client, "/webhooks/\(provider)", body: body, headers: headers).status == .ok)
            }
            #expect(try await harness.eventCount() == 2)
        }
    }

    @Test(arguments: providers)
    func acceptsBothSecretsDuringRotation(provider: String) async throws {
        let old = provider == "mintcash" ? "old-merchant-secret" : "whsec_b2xkIHNlY3JldCBiZWZvcmUgcm90YXRpb24="
        let new = ReceiverHarness.secret(provider)
        try await ReceiverHarness.run(environment: ["\(provider.uppercased())_WEBHOOK_SECRETS": "\(new), \(old)"]) { harness, client in
            for secret in [old, new] {
                var (body, headers) = Self.delivery(provider)
                headers = WebhookSigner.headers(
                    provider: provider, secret: secret, body: Array(body.utf8), id: headers["svix-id"] ?? headers["webhook-id"] ?? "")
                let response = try await ReceiverHarness.post(client, "/webhooks/\(provider)", body: body, headers: headers)
                #expect(response.status == .ok)
                #expect(try Self.json(response.body)["status"] as? String == "stored")
            }
            let fingerprints = try await harness.pool.query("SELECT DISTINCT secret_fingerprint FROM billing.events").decodeColumn(String.self)
            #expect(Set(fingerprints) == [WebhookSecret(old).fingerprint, WebhookSecret(new).fingerprint])
        }
    }

    @Test func providerWithoutSecretIsRefused() async throws {
        try await ReceiverHarness.run(environment: [:]) { harness, client in
            let (body, headers) = Self.delivery("mintcash")
            let response = try await ReceiverHarness.post(client, "/webhooks/mintcash", body: body, headers: headers)
            #expect(response.status == .unauthorized)
            #expect(try Self.json(response.body)["code"] as? String == "no_secret")
            #expect(try await harness.eventCount() == 0)
        }
    }

    @Test func environmentSpecificSecretsOverrideTheProviderWide() async throws {
        let environment = ["MINTCASH_WEBHOOK_SECRETS": "live-secret", "MINTCASH_TEST_WEBHOOK_SECRETS": "test-secret"]
        try await ReceiverHarness.run(environment: environment) { harness, client in
            let body = ProviderFixtures.mintcashPayment(eventID: UUID().uuidString, environment: "test")
            let testSigned = ["x-signature": WebhookSigner.hex(secret: "test-secret", message: Array(body.utf8))]
            let liveSigned = ["x-signature": WebhookSigner.hex(secret: "live-secret", message: Array(body.utf8))]
            #expect(try await ReceiverHarness.post(client, "/webhooks/mintcash/test", body: body, headers: liveSigned).status == .unauthorized)
            #expect(try await ReceiverHarness.post(client, "/webhooks/mintcash/test", body: body, headers: testSigned).status == .ok)
            let environmentStored = try await harness.pool.query("SELECT environment FROM billing.events").decodeColumn(String.self)
            #expect(environmentStored == ["test"])
        }
    }

    @Test(arguments: providers)
    func bodyOverTheLimitIs413(provider: String) async throws {
        try await ReceiverHarness.run(maximumBodyBytes: 4096) { harness, client in
            let padding = String(repeating: " ", count: 5000)
            let (body, _) = Self.delivery(provider)
            let large = body + padding
            let response = try await ReceiverHarness.post(
                client, "/webhooks/\(provider)", body: large, headers: ReceiverHarness.signed(provider, large))
            #expect(response.status == .contentTooLarge)
            #expect(try Self.json(response.body)["code"] as? String == "body_too_large")
            #expect(try await harness.eventCount() == 0)
            #expect(try await harness.deliveries().map(\.1) == ["too_large"])
        }
    }

    @Test func routingErrors() async throws {
        try await ReceiverHarness.run { harness, client in
            let (body, headers) = Self.delivery("mintcash")
            let unknown = try await ReceiverHarness.post(client, "/webhooks/stripe", body: body, headers: headers)
            #expect(unknown.status == .notFound)
            #expect(try Self.json(unknown.body)["code"] as? String == "unknown_provider")
            #expect(try await ReceiverHarness.post(client, "/webhooks/mintcash/staging", body: body, headers: headers).status == .notFound)
            var form = headers
            form["content-type"] = "application/x-www-form-urlencoded"
            #expect(try await ReceiverHarness.post(client, "/webhooks/mintcash", body: body, headers: form).status == .unsupportedMediaType)
            try await client.execute(uri: "/webhooks/mintcash", method: .get) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
            }
            #expect(try await harness.eventCount() == 0)
            #expect(
                try await harness.deliveries().map(\.1) == ["unknown_provider", "unknown_provider", "unsupported_media_type", "method_not_allowed"])
        }
    }

    @Test(arguments: providers)
    func unknownTypesAndNonJSONAreQuarantinedWith200(provider: String) async throws {
        try await ReceiverHarness.run { harness, client in
            let unknownType: String
            switch provider {
            case "flexprice": unknownType = #"{"event_type":"payment.teleported","payment":{"id":"p"}}"#
            case "mintfax": unknownType = #"{"id":"evt_unknowntype0000000001","type":"fax.teleported","created":1747922400,"data":{"object":{}}}"#
            default: unknownType = #"{"eventId":"e-unknown","event":"payment.teleported","createdAt":"2026-05-22T14:32:08Z","data":{}}"#
            }
            let id = provider == "mintfax" ? "evt_unknowntype0000000001" : "msg_unknown"
            for (body, reason) in [(unknownType, "unknown_type"), ("this is not json", "not_json")] {
                let headers = ReceiverHarness.signed(provider, body, id: body == unknownType ? id : "msg_notjson")
                let response = try await ReceiverHarness.post(client, "/webhooks/\(provider)", body: body, headers: headers)
                #expect(response.status == .ok)
                let answer = try Self.json(response.body)
                #expect(answer["status"] as? String == "quarantined")
                #expect(answer["reason"] as? String == reason)
                // The same delivery again lands on the same quarantine row.
                let again = try await ReceiverHarness.post(client, "/webhooks/\(provider)", body: body, headers: headers)
                #expect(try Self.json(again.body)["quarantine_id"] as? Int == answer["quarantine_id"] as? Int)
            }
            #expect(try await harness.eventCount() == 0)
            let rows = try await harness.pool.query("SELECT reason_code, attempts, raw_body FROM billing.quarantine ORDER BY id")
                .map { try $0.decode((String, Int, Data).self) }
            #expect(rows.map(\.0) == ["unknown_type", "not_json"])
            #expect(rows.map(\.1) == [2, 2])
            #expect(String(decoding: rows[1].2, as: UTF8.self) == "this is not json")
        }
    }

    @Test(arguments: providers)
    func fiftyConcurrentIdenticalDeliveriesLeaveOneRow(provider: String) async throws {
        try await ReceiverHarness.run { harness, _ in
            let (body, headers) = Self.delivery(provider)
            let statuses = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let response = try await harness.postOnNewConnection("/webhooks/\(provider)", body: body, headers: headers)
                        #expect(response.status == .ok)
                        return try Self.json(response.body)["status"] as? String ?? "?"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == "stored" }.count == 1)
            #expect(statuses.filter { $0 == "duplicate" }.count == 49)
            #expect(try await harness.eventCount() == 1)
        }
    }

    @Test func flexpriceResendUnderANewSvixIDIsADuplicate() async throws {
        try await ReceiverHarness.run { harness, client in
            let (body, headers) = Self.delivery("flexprice")
            let first = try await ReceiverHarness.post(client, "/webhooks/flexprice", body: body, headers: headers)
            let resent = try await ReceiverHarness.post(client, "/webhooks/flexprice", body: body, headers: ReceiverHarness.signed("flexprice", body))
            #expect(try Self.json(resent.body)["status"] as? String == "duplicate")
            #expect(try Self.json(resent.body)["event_id"] as? String == Self.json(first.body)["event_id"] as? String)
            #expect(try await harness.eventCount() == 1)
        }
    }

    @Test func mintfaxBodyIDMustMatchTheWebhookID() async throws {
        try await ReceiverHarness.run { harness, client in
            let body = ProviderFixtures.mintfaxFax(id: "evt_bodyid00000000000001")
            let response = try await ReceiverHarness.post(
                client, "/webhooks/mintfax", body: body, headers: ReceiverHarness.signed("mintfax", body, id: "evt_header0000000000001"))
            #expect(try Self.json(response.body)["reason"] as? String == "id_mismatch")
            #expect(try await harness.eventCount() == 0)
        }
    }
}
