import CLibPQ
import Logging

/// Transaction isolation levels.
public enum PostgresIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresConnection {
    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws. The async
    /// form of ``transaction(isolation:readOnly:_:)``, for a body that awaits; both run the same
    /// steps (``beginTransaction(_:readOnly:)``, ``commitTransaction()``,
    /// ``rollbackTransaction(after:)``) and fail the same way.
    @discardableResult
    public func withTransaction<T>(
        isolation level: PostgresIsolationLevel = .readCommitted,
        readOnly: Bool = false,
        actorIsolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        try await perform { try $0.beginTransaction(level, readOnly: readOnly) }
        let value: T
        do {
            value = try await body(self)
            try await perform { try $0.commitTransaction() }
        } catch {
            // Not through `perform`: a cancelled task must still roll back (perform refuses to start
            // then). After a failed COMMIT there is nothing to roll back, and this does nothing.
            try await runIsolated { try $0.rollbackTransaction(after: error) }
            throw error
        }
        return value
    }

    /// BEGIN, `body`, COMMIT on the connection's thread without a hop (inside ``perform(_:)``);
    /// ROLLBACK when `body` throws, whose error is then rethrown as it is. A failed BEGIN, COMMIT
    /// or ROLLBACK throws ``PostgresTransactionError`` naming the step. If the server had aborted
    /// the transaction (a statement failed and `body` swallowed the error), COMMIT would silently
    /// roll back; that fails the commit step instead.
    @discardableResult
    public func transaction<T>(
        isolation level: PostgresIsolationLevel = .readCommitted, readOnly: Bool = false, _ body: () throws -> T
    ) throws -> T {
        try beginTransaction(level, readOnly: readOnly)
        let value: T
        do {
            value = try body()
        } catch {
            try rollbackTransaction(after: error)
            throw error
        }
        try commitTransaction()
        return value
    }

    /// ``transaction(isolation:readOnly:_:)`` run again, up to `retries` more times, while the
    /// server rolls it back for a conflict with concurrent transactions
    /// (``PostgresError/isTransactionConflict``: deadlock, serialization failure, in the body or at
    /// COMMIT); `body` must be safe to run again. Any other error, or the last conflict, is thrown.
    @discardableResult
    public func transaction<T>(
        isolation level: PostgresIsolationLevel = .readCommitted, retryingConflicts retries: Int, _ body: () throws -> T
    ) throws -> T {
        var attempt = 0
        while true {
            do {
                return try transaction(isolation: level, body)
            } catch  where PostgresError.cause(of: error)?.isTransactionConflict == true && attempt < retries {
                attempt += 1
            }
        }
    }

    /// `BEGIN` with the isolation level and access mode.
    func beginTransaction(_ level: PostgresIsolationLevel, readOnly: Bool) throws(PostgresTransactionError) {
        let sql = "BEGIN ISOLATION LEVEL \(level.rawValue)\(readOnly ? " READ ONLY" : "")"
        do {
            try simpleQuery(unsafeSQL: sql)
        } catch {
            throw PostgresTransactionError(step: .begin, error: Self.postgresError(error))
        }
    }

    /// `COMMIT`. A transaction the server had already aborted answers `ROLLBACK`: nothing was
    /// committed, so that is an error too.
    func commitTransaction() throws(PostgresTransactionError) {
        let result: PostgresResult
        do {
            result = try simpleQuery(unsafeSQL: "COMMIT")
        } catch {
            throw PostgresTransactionError(step: .commit, error: Self.postgresError(error))
        }
        guard result.commandTag == "ROLLBACK" else { return }
        throw PostgresTransactionError(
            step: .commit,
            error: PostgresError(
                code: .inFailedSQLTransaction, message: "the transaction was aborted by an earlier error and has been rolled back"))
    }

    /// Rolls back after the body threw `bodyError`. A connection that cannot roll back is closed,
    /// so it is never reused (the server rolls back when it sees the connection go); a lost
    /// connection needs no rollback and is not an error of this step.
    func rollbackTransaction(after bodyError: any Error) throws(PostgresTransactionError) {
        guard let handle, PQtransactionStatus(handle) != PQTRANS_IDLE, PQstatus(handle) == CONNECTION_OK else { return }
        do {
            try simpleQuery(unsafeSQL: "ROLLBACK")
        } catch {
            logger.warning("rollback failed; closing the connection", metadata: ["error": "\(error)"])
            close()
            let error = Self.postgresError(error)
            guard !error.isConnectionLoss else { return }
            throw PostgresTransactionError(step: .rollback, error: error, bodyError: bodyError)
        }
    }

    /// `simpleQuery` throws only `PostgresError`; typed here for the transaction steps.
    private static func postgresError(_ error: any Error) -> PostgresError {
        error as? PostgresError ?? PostgresError(code: .connectionFailure, message: "\(error)")
    }
}
