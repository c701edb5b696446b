/// Why a delivery was refused before anything was stored (answered 401).
public struct WebhookRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// An open set of refusal reasons, also used as the delivery log's reason.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The reason's name.
        public let rawValue: String
        /// No secret is configured for the provider and environment (fail closed).
        public static let noSecret = Code(rawValue: "no_secret")
        /// A signature, id or timestamp header is absent.
        public static let missingHeaders = Code(rawValue: "missing_headers")
        /// A header is present but not in the documented format.
        public static let malformedHeaders = Code(rawValue: "malformed_headers")
        /// No signature matches any configured secret.
        public static let badSignature = Code(rawValue: "bad_signature")
        /// The timestamp is older than the tolerance (a replay or a very late retry).
        public static let staleTimestamp = Code(rawValue: "stale_timestamp")
        /// The timestamp lies further in the future than the tolerance.
        public static let futureTimestamp = Code(rawValue: "future_timestamp")
        public var description: String { rawValue }
    }

    /// The reason.
    public var code: Code
    /// A message safe to return to the caller: it never contains secrets or computed signatures.
    public var message: String

    /// Creates a refusal.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
