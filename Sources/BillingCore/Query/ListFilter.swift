import Foundation

/// A filter a list route accepts, and how its query-string value is read.
public struct ListFilter: Sendable, Hashable {
    /// How a value is read.
    public enum Kind: Sendable, Hashable {
        /// Free text, at most 500 bytes.
        case text
        /// Free text compared without case (e-mail addresses).
        case caseInsensitiveText
        /// One of the listed values.
        case oneOf([String])
        /// A read-model id (UUID).
        case id
        /// An RFC 3339 time, or a date (`2026-03-31` = midnight UTC).
        case time
    }

    /// The query parameter.
    public var name: String
    /// How its value is read.
    public var kind: Kind

    /// Creates a filter.
    public init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// `provider`, one of the three providers.
    public static let provider = ListFilter("provider", .oneOf(Provider.allCases.map(\.rawValue)))
    /// `environment`, `live` or `test`.
    public static let environment = ListFilter("environment", .oneOf(ProviderEnvironment.allCases.map(\.rawValue)))
    /// `provider_id`, the provider's own id.
    public static let providerID = ListFilter("provider_id", .text)
    /// `customer_id`, the stable id of a customer read model.
    public static let customerID = ListFilter("customer_id", .id)
}

/// A filter value as read from the query string, normalized (so equal filters bind equal cursors).
public enum ListFilterValue: Sendable, Hashable, CustomStringConvertible {
    /// Text (lower-cased for case-insensitive filters).
    case text(String)
    /// A read-model id.
    case id(UUID)
    /// A time in microseconds since 1970.
    case time(Int64)

    public var description: String {
        switch self {
        case let .text(text): text
        case let .id(id): id.uuidString.lowercased()
        case let .time(micros): String(micros)
        }
    }
}

extension ListFilter {
    /// Normalized subscription statuses (see `ReadModelStatus.subscription`).
    public static let subscriptionStatuses = [
        "draft", "pending", "incomplete", "trialing", "active", "past_due", "paused", "failed", "cancelled", "unknown",
    ]
    /// Normalized payment statuses (`billing.payment_status` and the refund derive step).
    public static let paymentStatuses = [
        "created", "pending", "processing", "authorized", "succeeded", "failed", "voided", "partially_refunded", "refunded", "unknown",
    ]
}
