/// Why a verified delivery could not be turned into an event. The delivery is kept in quarantine
/// with this reason and can be re-processed after a fix (`billing-events quarantine retry`); a
/// backfill record is written to the file's rejects with it.
public struct QuarantineReason: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable reason.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code as stored and shown (`unknown_type`).
        public let rawValue: String
        /// Creates a code from its stored form.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The body is not valid JSON (or not UTF-8).
        public static let notJSON = Code(rawValue: "not_json")
        /// The body is JSON but not an object.
        public static let notObject = Code(rawValue: "not_object")
        /// The event type is not one this version understands.
        public static let unknownType = Code(rawValue: "unknown_type")
        /// A field the event cannot be stored without is absent or null.
        public static let missingField = Code(rawValue: "missing_field")
        /// A field has the wrong type or an unreadable value (amount, currency, timestamp, id).
        public static let invalidField = Code(rawValue: "invalid_field")
        /// The body names another environment than the route it was delivered to.
        public static let environmentMismatch = Code(rawValue: "environment_mismatch")
        /// The body's event id differs from the signed delivery id header.
        public static let idMismatch = Code(rawValue: "id_mismatch")
        /// A backfill wrapper line (`{"id", "timestamp", "headers", "body"}`) is malformed.
        public static let invalidWrapper = Code(rawValue: "invalid_wrapper")
        /// A backfill CSV record does not match its header or is not valid CSV/UTF-8.
        public static let invalidCSV = Code(rawValue: "invalid_csv")
        /// A backfill record says nothing about when its state was current (no time in the body,
        /// no delivery id or timestamp, no `updated_at`/`created_at` in a snapshot row), so it
        /// could not be ordered against webhooks.
        public static let missingTime = Code(rawValue: "missing_time")
        /// An amount has more digits before or after the point than ``AmountBounds`` accepts.
        public static let amountOutOfRange = Code(rawValue: "amount_out_of_range")
        /// A payment, refund, wallet transaction or credit note amount is negative (see ``AmountBounds``).
        public static let negativeAmount = Code(rawValue: "negative_amount")
        public var description: String { rawValue }
    }

    /// The machine-readable reason.
    public var code: Code
    /// What exactly was wrong, naming the field.
    public var message: String

    /// Creates a reason.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
