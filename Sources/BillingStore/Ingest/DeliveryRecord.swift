import Foundation

/// How one webhook request ended, as the delivery log records it.
public enum DeliveryOutcome: String, Sendable, CaseIterable {
    case stored
    case duplicate
    case quarantined
    /// Signature, headers or timestamp did not hold (401).
    case refused
    /// Body over the limit (413).
    case tooLarge = "too_large"
    /// A method other than POST (405).
    case methodNotAllowed = "method_not_allowed"
    /// A content type that cannot be a webhook (415).
    case unsupportedMediaType = "unsupported_media_type"
    /// No such provider or environment route (404).
    case unknownProvider = "unknown_provider"
    /// The database was unavailable (503); written once it is back.
    case unavailable
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
    /// The HTTP status answered.
    public var httpStatus: Int
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
        receivedAt: Date, provider: String, environment: String?, outcome: DeliveryOutcome, httpStatus: Int,
        reason: String? = nil, bodyBytes: Int, deliveryID: String? = nil, eventID: UUID? = nil, quarantineID: Int64? = nil
    ) {
        self.receivedAt = receivedAt
        self.provider = String(provider.prefix(64))
        self.environment = environment
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.reason = reason
        self.bodyBytes = bodyBytes
        self.deliveryID = deliveryID.map { String($0.prefix(256)) }
        self.eventID = eventID
        self.quarantineID = quarantineID
    }
}
