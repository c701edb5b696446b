import Foundation

/// The receiver's pure part: verify the raw bytes, then normalize. No I/O, so it is unit-tested
/// without a server or database.
public struct WebhookIntake: Sendable {
    /// Signing secrets per provider and environment.
    public var secrets: WebhookSecrets
    /// The signature checker.
    public var verifier: WebhookVerifier

    /// Creates an intake.
    public init(secrets: WebhookSecrets, verifier: WebhookVerifier = WebhookVerifier()) {
        self.secrets = secrets
        self.verifier = verifier
    }

    /// Verifies and normalizes one request. `environment` is nil when the route named none.
    /// Throws the refusal when the signature does not hold (nothing may be stored then).
    public func receive(
        provider: Provider, environment: ProviderEnvironment?, headers: [String: String], body: [UInt8],
        now: Date = Date()
    ) throws(WebhookRefusal) -> IntakeResult {
        let resolved = environment ?? .live
        let verification = try verifier.verify(
            provider: provider, headers: headers, body: body, secrets: secrets.secrets(for: provider, environment: resolved),
            now: now)
        let delivery = IncomingDelivery(
            provider: provider, environment: resolved, environmentIsExplicit: environment != nil, body: body,
            deliveryID: verification.deliveryID, deliveryTimestamp: verification.timestamp,
            signatureHeaders: verification.signatureHeaders, secretFingerprint: verification.secretFingerprint,
            channel: .webhook, receivedAt: now)
        do {
            return .event(try EventNormalizer.normalize(delivery), delivery)
        } catch {
            return .quarantine(error, delivery)
        }
    }
}
