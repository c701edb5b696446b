import BillingStore
import HTTPTypes

extension DeliveryOutcome {
    /// The status the receiver answers a delivery that ends this way: the one mapping (the
    /// delivery log's `analytics.deliveries.http_status` derives the same, and a test compares them).
    public var httpStatus: HTTPResponse.Status {
        switch self {
        case .stored, .duplicate, .quarantined: .ok
        case .refused: .unauthorized
        case .tooLarge: .contentTooLarge
        case .methodNotAllowed: .methodNotAllowed
        case .unsupportedMediaType: .unsupportedMediaType
        // RFC 9112 §6.1: a transfer coding the server does not understand is answered 501.
        case .unsupportedCoding: .notImplemented
        case .unknownProvider: .notFound
        case .unavailable: .serviceUnavailable
        case .failed: .internalServerError
        }
    }
}
