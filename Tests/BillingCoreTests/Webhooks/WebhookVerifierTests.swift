import BillingCore
import Foundation
import Testing

/// Vectors: Svix's published example, and HMACs computed independently with Python's hmac module.
@Suite struct WebhookVerifierTests {
    let verifier = WebhookVerifier()
    let svixSecret = WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    let svixBody = Array(#"{"test": 2432232314}"#.utf8)
    let svixTime = Date(timeIntervalSince1970: 1_614_265_330)
    let svixSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    func svixHeaders(prefix: String = "svix", signature: String? = nil, timestamp: String = "1614265330") -> [String: String] {
        ["\(prefix)-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "\(prefix)-timestamp": timestamp, "\(prefix)-signature": signature ?? svixSignature]
    }

    @Test(arguments: ["svix", "webhook"])
    func flexpriceAcceptsSvixAndStandardWebhooksHeaders(prefix: String) throws {
        let result = try verifier.verify(
            provider: .flexprice, headers: svixHeaders(prefix: prefix), body: svixBody, secrets: [svixSecret], now: svixTime)
        #expect(result.deliveryID == "msg_p5jXN8AQM9LWM0D4loKWxJek")
        #expect(result.secretFingerprint == svixSecret.fingerprint)
        #expect(result.timestamp == svixTime)
        #expect(result.signatureHeaders["\(prefix)-signature"] == svixSignature)
    }

    @Test func mintfaxUsesStandardWebhooks() throws {
        let result = try verifier.verify(
            provider: .mintfax, headers: svixHeaders(prefix: "webhook"), body: svixBody, secrets: [svixSecret], now: svixTime)
        #expect(result.deliveryID == "msg_p5jXN8AQM9LWM0D4loKWxJek")
    }

    @Test func anyOfSeveralSignaturesAndAnyOfSeveralSecretsMatches() throws {
        let headers = svixHeaders(signature: "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,zzz \(svixSignature)")
        let old = WebhookSecret("whsec_b2xkIHNlY3JldCBvbGQgc2VjcmV0IG9sZA==")
        let result = try verifier.verify(provider: .flexprice, headers: headers, body: svixBody, secrets: [old, svixSecret], now: svixTime)
        #expect(result.secretFingerprint == svixSecret.fingerprint)
        #expect(result.secretFingerprint != old.fingerprint)
    }

    @Test func tamperedBodiesAndWrongSecretsAreRefused() {
        var tampered = svixBody
        tampered[tampered.count - 2] ^= 1
        let bodyError = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(provider: .flexprice, headers: svixHeaders(), body: tampered, secrets: [svixSecret], now: svixTime)
        }
        #expect(bodyError?.code == .badSignature)
        let secretError = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(
                provider: .flexprice, headers: svixHeaders(), body: svixBody,
                secrets: [WebhookSecret("whsec_dGhlIHdyb25nIHNlY3JldA==")], now: svixTime)
        }
        #expect(secretError?.code == .badSignature)
        // A changed id or timestamp is a different signed message.
        var otherID = svixHeaders()
        otherID["svix-id"] = "msg_other"
        #expect(throws: WebhookRefusal(.badSignature, "no signature matches a configured secret")) {
            try verifier.verify(provider: .flexprice, headers: otherID, body: svixBody, secrets: [svixSecret], now: svixTime)
        }
    }

    @Test func timestampsOutsideFiveMinutesAreRefused() throws {
        let stale = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(provider: .flexprice, headers: svixHeaders(), body: svixBody, secrets: [svixSecret], now: svixTime + 301)
        }
        #expect(stale?.code == .staleTimestamp)
        let future = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(provider: .flexprice, headers: svixHeaders(), body: svixBody, secrets: [svixSecret], now: svixTime - 301)
        }
        #expect(future?.code == .futureTimestamp)
        _ = try verifier.verify(provider: .flexprice, headers: svixHeaders(), body: svixBody, secrets: [svixSecret], now: svixTime + 299)
        _ = try verifier.verify(provider: .flexprice, headers: svixHeaders(), body: svixBody, secrets: [svixSecret], now: svixTime - 299)
    }

    @Test(arguments: [
        (["svix-id": "m", "svix-timestamp": "1614265330"], WebhookRefusal.Code.missingHeaders),
        (["svix-signature": "v1,x", "svix-timestamp": "1614265330"], .missingHeaders),
        ([:], .missingHeaders),
        (["svix-id": "m", "svix-timestamp": "16142653.30", "svix-signature": "v1,x"], .malformedHeaders),
        (["svix-id": "m", "svix-timestamp": "-1614265330", "svix-signature": "v1,x"], .malformedHeaders),
        (["svix-id": "m", "svix-timestamp": "99999999999999999999", "svix-signature": "v1,x"], .malformedHeaders),
        (["svix-id": "m", "svix-timestamp": "1614265330", "svix-signature": "v2,abc"], .malformedHeaders),
        (["svix-id": "m", "svix-timestamp": "1614265330", "svix-signature": "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="], .malformedHeaders),
        (["svix-id": "", "svix-timestamp": "1614265330", "svix-signature": "v1,x"], .malformedHeaders),
    ])
    func malformedOrMissingHeadersAreRefused(headers: [String: String], code: WebhookRefusal.Code) {
        let error = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(provider: .flexprice, headers: headers, body: svixBody, secrets: [svixSecret], now: svixTime)
        }
        #expect(error?.code == code)
    }

    @Test func manySignaturesAreExaminedLikeTheReferenceLibraries() throws {
        // The libraries have no cap; a rotation header with 40 stale tokens before the good one verifies.
        let stale = String(repeating: "v1,\(Data(repeating: 7, count: 32).base64EncodedString()) ", count: 40)
        let verified = try verifier.verify(
            provider: .flexprice, headers: svixHeaders(signature: stale + svixSignature), body: svixBody, secrets: [svixSecret], now: svixTime)
        #expect(verified.secretFingerprint == svixSecret.fingerprint)
    }

    @Test func noSecretMeansNoAcceptance() {
        let error = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(provider: .flexprice, headers: svixHeaders(), body: svixBody, secrets: [], now: svixTime)
        }
        #expect(error?.code == .noSecret)
    }

    @Test func mintCashHexOfTheRawBody() throws {
        let secret = WebhookSecret("mc_secret_123")
        let body = Array(#"{"eventId":"e1"}"#.utf8)
        let signature = "52bc24951f07a6ec28a73269c388c61915f299a49041d3d22c7c1484cdc22454"
        let result = try verifier.verify(provider: .mintcash, headers: ["x-signature": signature], body: body, secrets: [secret])
        #expect(result.secretFingerprint == "c615708e7611")
        #expect(result.deliveryID == nil && result.timestamp == nil)
        _ = try verifier.verify(provider: .mintcash, headers: ["x-signature": signature.uppercased()], body: body, secrets: [secret])
        let wrong = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(provider: .mintcash, headers: ["x-signature": signature], body: body + [32], secrets: [secret])
        }
        #expect(wrong?.code == .badSignature)
        let short = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(provider: .mintcash, headers: ["x-signature": String(signature.dropLast())], body: body, secrets: [secret])
        }
        #expect(short?.code == .malformedHeaders)
        let missing = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(provider: .mintcash, headers: [:], body: body, secrets: [secret])
        }
        #expect(missing?.code == .missingHeaders)
    }

    @Test func mintfaxLegacyHexOfTimestampAndBody() throws {
        let secret = WebhookSecret("whsec_legacy")
        let body = Array(#"{"event":"fax.delivered"}"#.utf8)
        let headers = [
            "x-mintfax-signature": "802e93c84795473cc993e15f0d34d6462f5888de0539776ff8295025f2d17a76",
            "x-mintfax-timestamp": "1700000000",
        ]
        let now = Date(timeIntervalSince1970: 1_700_000_010)
        let result = try verifier.verify(provider: .mintfax, headers: headers, body: body, secrets: [secret], now: now)
        #expect(result.signatureHeaders == headers)
        let stale = #expect(throws: WebhookRefusal.self) {
            try verifier.verify(provider: .mintfax, headers: headers, body: body, secrets: [secret], now: now + 600)
        }
        #expect(stale?.code == .staleTimestamp)
    }

    @Test func secretsComeFromTheEnvironmentWithPerEnvironmentOverrides() throws {
        let secrets = try WebhookSecrets(environment: [
            "FLEXPRICE_WEBHOOK_SECRETS": " whsec_a2V5b25l , whsec_a2V5dHdv ",
            "FLEXPRICE_TEST_WEBHOOK_SECRETS": "whsec_dGVzdGtleQ==",
            "MINTCASH_LIVE_WEBHOOK_SECRETS": "mc_live",
            "MINTFAX_WEBHOOK_SECRETS": " , ",
        ])
        #expect(secrets.secrets(for: .flexprice, environment: .live).count == 2)
        #expect(secrets.secrets(for: .flexprice, environment: .test) == [WebhookSecret("whsec_dGVzdGtleQ==")])
        #expect(secrets.secrets(for: .mintcash, environment: .live) == [WebhookSecret("mc_live")])
        #expect(secrets.secrets(for: .mintcash, environment: .test).isEmpty)
        #expect(secrets.unconfiguredProviders == [.mintfax])
    }

    /// Vectors from Python's `standardwebhooks`/`svix` (`base64.b64decode(rest + "==")`).
    @Test(arguments: [
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "31f290f6bf06298aab4f08d43c3f082cf648a362da2da4b0"),
        ("whsec_dGVzdCBzZWNyZXQgZm9yIG1pbnRmYXg=", "746573742073656372657420666f72206d696e74666178"),
        ("whsec_dGVzdCBzZWNyZXQgZm9yIG1pbnRmYXg", "746573742073656372657420666f72206d696e74666178"),
        ("whsec_test_3JzE9rYNm2VbQ8P6KxLf1WdGa4Tc", "b5eb2ddc9cc4f6b60d9b655b43c3fa2b12dfd567466b84dc"),
        ("whsec_AAEC", "000102"), ("whsec_legacy", "95e81a73"), ("s3cret", "b3772b7a"), ("whsec_ab-c_d", "69b71d"),
        ("whsec_dGVzdA==Zm9v", "74657374"), ("whsec_abc=d", "69b7"),
    ])
    func standardKeysAreDerivedAsTheReferenceLibrariesDo(secret: String, key: String) {
        #expect(WebhookSecret(secret).standardKey.map(Hex.encode) == key)
    }

    @Test(arguments: ["whsec_a", "whsec_", "whsec_=", "whsec_!!!"])
    func secretsTheLibrariesRefuseStopTheConfiguration(secret: String) {
        #expect(WebhookSecret(secret).standardKey == nil)
        let error = #expect(throws: WebhookSecretError.self) {
            try WebhookSecrets(environment: ["MINTFAX_TEST_WEBHOOK_SECRETS": "whsec_AAEC,\(secret)"])
        }
        #expect(error?.variable == "MINTFAX_TEST_WEBHOOK_SECRETS")
        #expect(error?.description.contains("fingerprint") == true)
        // MintCash keys are the raw bytes: any text is a key.
        #expect(throws: Never.self) { try WebhookSecrets(environment: ["MINTCASH_WEBHOOK_SECRETS": secret]) }
    }

    @Test(arguments: ["FLEXPRICE_WEBHOOK_SECRET", "MINTCASH_SANDBOX_WEBHOOK_SECRETS", "MINTFAX_WEBHOOK_SECRETS_TEST"])
    func misspeltSecretVariablesStopTheConfiguration(name: String) {
        let error = #expect(throws: WebhookSecretError.self) { try WebhookSecrets(environment: [name: "whsec_AAEC", "OTHER_WEBHOOK_SECRET": "x"]) }
        #expect(error?.variable == name)
    }

    @Test func hexSchemesKeyWithTheWholeSecret() {
        #expect(WebhookSecret("plain").rawKey == Array("plain".utf8))
        #expect(WebhookSecret("whsec_legacy").rawKey == Array("whsec_legacy".utf8))
    }
}
