import CLibPQ
import Logging

/// Transaction isolation levels.
public enum PostgresIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresConnection {
    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    ///
    /// If the server aborted the transaction (a statement failed and `body` swallowed the error),
    /// COMMIT would silently roll back; this throws instead.
    @discardableResult
    public func withTransaction<T>(
        isolation level: PostgresIsolationLevel = .readCommitted,
        readOnly: Bool = false,
        actorIsolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        try await query(PostgresQuery(unsafeSQL: Self.beginSQL(level, readOnly: readOnly)))
        let value: T
        do {
            value = try await body(self)
        } catch {
            await rollbackQuietly()
            throw error
        }
        try Self.requireCommitted(try await query("COMMIT"))
        return value
    }

    /// The synchronous form for use inside ``perform(_:)``: BEGIN, `body`, COMMIT; ROLLBACK when
    /// `body` throws. The whole transaction runs on the connection's thread without a hop.
    @discardableResult
    public func transaction<T>(
        isolation level: PostgresIsolationLevel = .readCommitted, readOnly: Bool = false, _ body: () throws -> T
    ) throws -> T {
        try simpleQuery(unsafeSQL: Self.beginSQL(level, readOnly: readOnly))
        let value: T
        do {
            value = try body()
        } catch {
            rollbackQuietly()
            throw error
        }
        try Self.requireCommitted(try simpleQuery(unsafeSQL: "COMMIT"))
        return value
    }

    /// `BEGIN` with the isolation level and access mode: both forms start transactions the same way.
    private static func beginSQL(_ level: PostgresIsolationLevel, readOnly: Bool) -> String {
        "BEGIN ISOLATION LEVEL \(level.rawValue)\(readOnly ? " READ ONLY" : "")"
    }

    /// COMMIT of a transaction the server had already aborted (a statement failed and the body
    /// swallowed the error) answers `ROLLBACK`: nothing was committed, so that is an error.
    private static func requireCommitted(_ commit: PostgresResult) throws {
        guard commit.commandTag == "ROLLBACK" else { return }
        throw PostgresError(
            code: .inFailedSQLTransaction, message: "the transaction was aborted by an earlier error and has been rolled back")
    }

    /// ``transaction(isolation:_:)`` run again, up to `retries` more times, while the server rolls
    /// it back for a conflict with concurrent transactions (``PostgresError/isTransactionConflict``:
    /// deadlock, serialization failure); `body` must be safe to run again. Any other error, or the
    /// last conflict, is thrown.
    @discardableResult
    public func transaction<T>(
        isolation level: PostgresIsolationLevel = .readCommitted, retryingConflicts retries: Int, _ body: () throws -> T
    ) throws -> T {
        var attempt = 0
        while true {
            do {
                return try transaction(isolation: level, body)
            } catch let error as PostgresError where error.isTransactionConflict && attempt < retries {
                attempt += 1
            }
        }
    }

    /// Rolls back after a failure; a connection that cannot roll back is closed so it is never reused.
    func rollbackQuietly() {
        guard let handle, PQtransactionStatus(handle) != PQTRANS_IDLE else { return }
        do {
            try simpleQuery(unsafeSQL: "ROLLBACK")
        } catch {
            logger.warning("rollback failed; closing the connection", metadata: ["error": "\(error)"])
            close()
        }
    }
}
