import CLibPQ
import Foundation

/// The prepared statements of one session, keyed by SQL text and parameter types.
struct StatementCache {
    struct Key: Hashable {
        let sql: String
        let types: [UInt32]
    }

    let capacity: Int
    private(set) var names: [Key: String] = [:]
    private var counter = 0

    init(capacity: Int) { self.capacity = max(0, capacity) }

    /// The name to prepare a new statement under, or nil when the cache is full or disabled.
    mutating func reserve(_ key: Key) -> String? {
        guard names.count < capacity else { return nil }
        counter += 1
        let name = "be_\(counter)"
        names[key] = name
        return name
    }

    func name(for key: Key) -> String? { names[key] }
    mutating func forget(_ key: Key) { names[key] = nil }
}

extension PostgresConnection {
    /// Runs one statement, preparing it on first use so later runs skip parsing and planning.
    /// The synchronous form of ``query(_:)`` for code already on the connection (inside ``perform(_:)``).
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> PostgresResult {
        let handle = try requireHandle()
        let key = StatementCache.Key(sql: query.sql, types: query.binds.map(\.type.rawValue))
        if let name = statements.name(for: key) {
            do {
                return try executePrepared(name, query, handle)
            } catch let error as PostgresError where Self.invalidatesStatement(error) {
                // DEALLOCATE ALL, or a schema change altered the result type: prepare afresh. Inside
                // a transaction the error already aborted it, so retrying would only hide the cause.
                statements.forget(key)
                guard let handle = self.handle, PQtransactionStatus(handle) != PQTRANS_INERROR else { throw error }
                _ = try? simpleQuery(unsafeSQL: "DEALLOCATE " + PostgresQuery.quoteIdentifier(name))
            }
        }
        if let name = statements.reserve(key) {
            let types = query.binds.map { Oid($0.type.rawValue) }
            guard let prepared = PQprepare(handle, name, query.sql, Int32(types.count), types) else {
                statements.forget(key)
                throw failure(query: query.sql)
            }
            defer { PQclear(prepared) }
            do {
                _ = try decode(prepared, query: query.sql)
            } catch {
                statements.forget(key)
                throw error
            }
            return try executePrepared(name, query, handle)
        }
        let result = try LibPQ.withParameters(query.binds) { count, types, values, lengths, formats in
            PQexecParams(handle, query.sql, count, types, values, lengths, formats, 0)
        }
        guard let result else { throw failure(query: query.sql) }
        defer { PQclear(result) }
        return try decode(result, query: query.sql)
    }

    private func executePrepared(_ name: String, _ query: PostgresQuery, _ handle: OpaquePointer) throws -> PostgresResult {
        let result = try LibPQ.withParameters(query.binds) { count, _, values, lengths, formats in
            PQexecPrepared(handle, name, count, values, lengths, formats, 0)
        }
        guard let result else { throw failure(query: query.sql) }
        defer { PQclear(result) }
        return try decode(result, query: query.sql)
    }

    /// Errors that mean the prepared statement itself is gone or stale, raised before it ran.
    private static func invalidatesStatement(_ error: PostgresError) -> Bool {
        error.code == .invalidSQLStatementName || (error.code == .featureNotSupported && error.message.contains("cached plan"))
    }
}
