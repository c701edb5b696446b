import Crypto
import Foundation

/// A request body with what is known about its delivery: the input of normalization.
///
/// Webhooks fill it from the verified request; backfill fills it from an export line (channel
/// `backfill`, no signature); quarantine retry rebuilds it from the stored row.
public struct IncomingDelivery: Sendable {
    /// Whose body it is.
    public var provider: Provider
    /// The environment the route (or the operator) named; `live` when nothing named one.
    public var environment: ProviderEnvironment
    /// True when the environment was named explicitly, so a body that says otherwise is a mismatch.
    public var environmentIsExplicit: Bool
    /// The exact body bytes.
    public var body: [UInt8]
    /// SHA-256 of `body`.
    public var bodySHA256: [UInt8]
    /// The delivery id header (`svix-id`, `webhook-id`), or the id an export kept for the body.
    public var deliveryID: String?
    /// The signed delivery timestamp (`svix-timestamp`…), when there is one.
    public var deliveryTimestamp: Date?
    /// The signature headers as received.
    public var signatureHeaders: [String: String]
    /// Fingerprint of the secret that verified it (nil for backfill).
    public var secretFingerprint: String?
    /// How it arrived.
    public var channel: IngestChannel
    /// Where it came from besides HTTP: the backfill file, for example.
    public var source: String?
    /// When the service received it.
    public var receivedAt: Date

    /// The delivery id, or `sha256:<body hash>` for a delivery without one (MintCash, export lines):
    /// what identifies this delivery in the quarantine and as Flexprice's fallback dedupe key.
    public var deliveryKey: String { deliveryID ?? "sha256:" + Hex.encode(bodySHA256) }

    /// Creates a delivery; the body hash is computed here.
    public init(
        provider: Provider, environment: ProviderEnvironment, environmentIsExplicit: Bool, body: [UInt8],
        deliveryID: String? = nil, deliveryTimestamp: Date? = nil, signatureHeaders: [String: String] = [:],
        secretFingerprint: String? = nil, channel: IngestChannel = .webhook, source: String? = nil,
        receivedAt: Date = Date()
    ) {
        self.provider = provider
        self.environment = environment
        self.environmentIsExplicit = environmentIsExplicit
        self.body = body
        self.bodySHA256 = Array(SHA256.hash(data: body))
        self.deliveryID = deliveryID
        self.deliveryTimestamp = deliveryTimestamp
        self.signatureHeaders = signatureHeaders
        self.secretFingerprint = secretFingerprint
        self.channel = channel
        self.source = source
        self.receivedAt = receivedAt
    }
}
