import BillingCore
import Foundation

/// What the store did with a verified delivery.
public enum IngestOutcome: Sendable, Equatable {
    /// Appended to the log now, at `position`.
    case stored(eventID: UUID, position: Int64)
    /// The log already holds this event at `position` (same dedupe key, or for Flexprice the same
    /// body and type within the redelivery window).
    case duplicate(eventID: UUID, position: Int64)
    /// Kept in quarantine (a repeat of the same delivery counts another attempt on the same row).
    case quarantined(quarantineID: Int64)

    /// How the delivery log and the metrics name this outcome.
    public var deliveryOutcome: DeliveryOutcome {
        switch self {
        case .stored: .stored
        case .duplicate: .duplicate
        case .quarantined: .quarantined
        }
    }
}

/// Why the store could not take a delivery.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    /// A stable code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's text.
        public let rawValue: String
        /// The database cannot be reached or went away mid-batch; the delivery is not stored.
        public static let unavailable = Code(rawValue: "database_unavailable")
        /// The database refused this one delivery (a bug or a constraint); nothing was stored.
        public static let rejected = Code(rawValue: "store_rejected")
        public var description: String { rawValue }
    }

    /// The code.
    public var code: Code
    /// What happened (safe to log: no bodies or secrets).
    public var message: String
    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
