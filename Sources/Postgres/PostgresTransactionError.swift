/// A transaction whose own statements failed: `BEGIN`, `COMMIT`, or the `ROLLBACK` after the
/// body threw. (An error the body throws is rethrown as it is, after the rollback: it is the
/// caller's own.) Says which step failed and whether the outcome is unknown.
public struct PostgresTransactionError: Error, CustomStringConvertible, CustomDebugStringConvertible {
    /// The transaction statement that failed.
    public enum Step: String, Sendable {
        /// `BEGIN`: nothing ran.
        case begin
        /// `COMMIT`: see ``PostgresTransactionError/outcomeUnknown``.
        case commit
        /// `ROLLBACK` after the body threw ``PostgresTransactionError/bodyError``; the connection
        /// is closed, so the server rolls back when it notices.
        case rollback
    }

    /// The step that failed.
    public var step: Step
    /// The server's (or libpq's) error at that step.
    public var error: PostgresError
    /// For `.rollback`: what the body threw first.
    public var bodyError: (any Error)?

    /// Creates the error of `step`.
    public init(step: Step, error: PostgresError, bodyError: (any Error)? = nil) {
        self.step = step
        self.error = error
        self.bodyError = bodyError
    }

    /// True when the connection was lost during `COMMIT`: the server may or may not have committed,
    /// so the caller must not report success, and must not assume failure either (an idempotent
    /// retry is the way to learn).
    public var outcomeUnknown: Bool { step == .commit && error.isConnectionLoss }

    /// `PostgresTransactionError(step: commit, PostgresError(code: 40001))`.
    public var description: String { "PostgresTransactionError(step: \(step.rawValue), \(error))" }

    /// With the server's message and the body's error.
    public var debugDescription: String {
        "PostgresTransactionError(step: \(step.rawValue), \(error.debugDescription)\(bodyError.map { ", body: \(String(reflecting: $0))" } ?? ""))"
    }
}

extension PostgresError {
    /// The server error behind `error`: itself, or the one a transaction step failed with.
    public static func cause(of error: any Error) -> PostgresError? {
        switch error {
        case let error as PostgresError: error
        case let error as PostgresTransactionError: error.error
        default: nil
        }
    }
}
