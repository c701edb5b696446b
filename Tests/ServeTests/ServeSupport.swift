import Foundation
import Postgres
import TestSupport

/// Deliveries and checks against a `serve` process (``ServeProcess``).
enum ServeSupport {
    static let mintcashSecret = "mintcash-ops-secret-6d1c"
    static let flexpriceSecret = "whsec_b3BzLXNlY3JldC1mbGV4cHJpY2UtZm9yLXRlc3Rz"
    /// The webhook secrets every serve process of these tests gets.
    static let environment = ["MINTCASH_WEBHOOK_SECRETS": mintcashSecret, "FLEXPRICE_WEBHOOK_SECRETS": flexpriceSecret]

    /// Posts a MintCash payment event `eventID`, signed (or with a signature of other bytes).
    static func mintcash(
        _ serve: ServeProcess, eventID: String, body: String? = nil, forged: Bool = false, headers: [(String, String)] = []
    ) async throws -> RawHTTP.Response {
        let bytes = Array((body ?? ProviderFixtures.mintcashPayment(eventID: eventID)).utf8)
        let signature = WebhookSigner.hex(secret: mintcashSecret, message: forged ? bytes + [0x20] : bytes)
        return try await RawHTTP.send(
            port: serve.port, method: "POST", path: "/webhooks/mintcash",
            headers: [("Content-Type", "application/json"), ("X-Signature", signature)] + headers, body: bytes)
    }

    /// The MintCash event ids (dedupe keys) in the log.
    static func storedMintcashIDs(_ pool: PostgresPool) async throws -> [String] {
        try await pool.query("SELECT dedupe_key FROM billing.events WHERE provider = 'mintcash'").decodeColumn(String.self)
    }

    /// Waits until `condition` holds, polling every 100 ms; false after `timeout`.
    static func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}
