import BillingCore
import BillingStore
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1

extension Problem {
    /// The one mapping from the errors of the service's layers to HTTP: bad parameters are 400
    /// naming the parameter, a webhook whose signature is refused 401, a delivery the event store
    /// could not take 503 (retry) or 500, an unreachable or overloaded database or a `min_position` not
    /// reached in time 503 (retry), a body that did not
    /// arrive within the read timeout 408, a request whose client went away before its body arrived
    /// ``clientClosedRequest``, Hummingbird's own errors
    /// the same status as a problem. Anything else is not a problem of the request: nil, and
    /// ``RequestObservationMiddleware`` logs it and answers ``internalError`` without internals.
    public init?(mapping error: any Error) {
        switch error {
        case let problem as Problem:
            self = problem
        case let error as HTTPError:
            self.init(status: error.status, detail: error.body, headers: error.headers)
        case is RequestReadTimeout:
            self = .requestTimeout
        case HTTPParserError.invalidEOFState, ChannelError.eof, ChannelError.ioOnClosedChannel, ChannelError.inputClosed:
            self = .clientClosedRequest
        case let error as IOError where [ECONNRESET, EPIPE].contains(error.errnoCode):
            self = .clientClosedRequest
        case is HTTPParserError:
            self.init(status: .badRequest, detail: "the request is not valid HTTP/1.1", code: "malformed_request")
        case let error as QueryParameterError:
            self.init(
                status: .badRequest, title: "Invalid parameter", detail: error.description, code: error.code.rawValue, parameter: error.parameter)
        case let error as WebhookRefusal:
            self.init(status: .unauthorized, title: "Signature not accepted", detail: error.message, code: error.code.rawValue)
        case let error as IngestError where error.code == .unavailable:
            self.init(
                status: .serviceUnavailable, detail: "the event store is unavailable; the delivery was not stored, retry later",
                code: error.code.rawValue, headers: [.retryAfter: "5"])
        case let error as IngestError:
            self.init(status: .internalServerError, detail: "the delivery could not be stored", code: error.code.rawValue)
        case let error as PositionWait.NotReached:
            self.init(
                status: .serviceUnavailable, title: "Position not reached", detail: error.description, code: "position_not_reached",
                headers: [.retryAfter: "1"])
        case let error where DatabaseHealth.isUnavailable(error):
            self = .unavailable
        default:
            return nil
        }
    }

    /// An unexpected failure, told without internals.
    static let internalError = Problem(status: .internalServerError, detail: "the request could not be answered", code: "internal_error")

    /// The client closed the connection before its request arrived in full (nginx's 499): nobody
    /// is left to answer, and it is not a failure of the service, so it is logged and counted apart
    /// from 5xx.
    public static let clientClosedRequest = Problem(
        status: .init(code: 499, reasonPhrase: "Client Closed Request"),
        detail: "the client closed the connection before the request arrived in full",
        code: "client_closed_request")

    /// The request's body did not arrive within the read timeout (also written by
    /// ``RequestReadDeadlineHandler`` itself when no response has started).
    static let requestTimeout = Problem(status: .requestTimeout, detail: "the request did not arrive in time", code: "request_timeout")

    /// The database cannot be reached: retry later.
    static let unavailable = Problem(
        status: .serviceUnavailable, detail: "the database is unavailable; retry later", code: "database_unavailable", headers: [.retryAfter: "1"])
}
