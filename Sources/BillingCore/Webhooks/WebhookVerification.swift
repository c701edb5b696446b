import Foundation

/// What a verified delivery proved.
public struct WebhookVerification: Sendable, Equatable {
    /// Fingerprint of the secret whose signature matched.
    public var secretFingerprint: String
    /// The delivery id header (`svix-id`, `webhook-id`), when the scheme has one.
    public var deliveryID: String?
    /// The signed timestamp, when the scheme has one.
    public var timestamp: Date?
    /// The signature headers as received, to keep beside the raw body for re-verification.
    public var signatureHeaders: [String: String]
}
