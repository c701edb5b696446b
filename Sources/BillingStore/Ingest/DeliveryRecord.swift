import Foundation

/// How one webhook request ended, as the delivery log records it. The receiver answers each
/// outcome with one HTTP status; that mapping is the HTTP layer's (`DeliveryOutcome+HTTP`).
public enum DeliveryOutcome: String, Sendable, CaseIterable {
    /// Stored as a new event.
    case stored
    /// Already stored: the same event came before.
    case duplicate
    /// Verified but not understood: kept in the quarantine.
    case quarantined
    /// Signature, headers or timestamp did not hold.
    case refused
    /// Body over the limit.
    case tooLarge = "too_large"
    /// A method other than POST.
    case methodNotAllowed = "method_not_allowed"
    /// A content type or content coding that cannot be a webhook.
    case unsupportedMediaType = "unsupported_media_type"
    /// A transfer coding the server does not implement (`Transfer-Encoding: gzip`).
    case unsupportedCoding = "unsupported_coding"
    /// No such provider or environment route.
    case unknownProvider = "unknown_provider"
    /// The database was unavailable; written once it is back.
    case unavailable
    /// The event store refused the delivery for another reason; nothing was stored.
    case failed
}

/// One row of the bounded delivery log: what an operator needs to see why deliveries fail.
public struct DeliveryRecord: Sendable, Equatable {
    /// When the request arrived.
    public var receivedAt: Date
    /// The provider path segment as requested (may be an unknown name; cut to 64 characters).
    public var provider: String
    /// The environment, when the route named or implied one.
    public var environment: String?
    /// How it ended.
    public var outcome: DeliveryOutcome
    /// Why it was refused or quarantined (never a secret or a signature).
    public var reason: String?
    /// Body size in bytes (as far as it was read for 413).
    public var bodyBytes: Int
    /// The delivery id header, when there was one.
    public var deliveryID: String?
    /// The stored (or already stored) event.
    public var eventID: UUID?
    /// The quarantine row.
    public var quarantineID: Int64?

    /// Creates a record.
    public init(
        receivedAt: Date, provider: String, environment: String?, outcome: DeliveryOutcome,
        reason: String? = nil, bodyBytes: Int, deliveryID: String? = nil, eventID: UUID? = nil, quarantineID: Int64? = nil
    ) {
        self.receivedAt = receivedAt
        self.provider = String(provider.prefix(64))
        self.environment = environment
        self.outcome = outcome
        self.reason = reason
        self.bodyBytes = bodyBytes
        self.deliveryID = deliveryID.map { String($0.prefix(256)) }
        self.eventID = eventID
        self.quarantineID = quarantineID
    }
}
