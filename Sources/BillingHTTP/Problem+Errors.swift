import BillingCore
import Hummingbird
import Postgres

extension Problem {
    /// The one mapping from the errors of the service's layers to HTTP: bad parameters are 400
    /// naming the parameter, an unreachable or overloaded database 503 (retry). Anything else is
    /// not a problem of the request: nil, and ``RequestObservationMiddleware`` logs it and answers
    /// ``internalError`` without internals.
    public init?(mapping error: any Error) {
        switch error {
        case let problem as Problem:
            self = problem
        case let error as QueryParameterError:
            self.init(status: .badRequest, title: "Invalid parameter", detail: error.description, code: error.code.rawValue, parameter: error.parameter)
        case let error as PostgresError where error.isConnectionLoss:
            self = .unavailable
        case is PostgresPoolError:
            self = .unavailable
        default:
            return nil
        }
    }

    /// An unexpected failure, told without internals.
    static let internalError = Problem(status: .internalServerError, detail: "the request could not be answered", code: "internal_error")

    /// The database cannot be reached: retry later.
    static let unavailable = Problem(
        status: .serviceUnavailable, detail: "the database is unavailable; retry later", code: "database_unavailable", headers: [.retryAfter: "1"])
}
