/// A decoding error that names the column and the Swift type that did not fit.
public struct PostgresDecodingError: Error, Sendable, CustomStringConvertible {
    /// The column's name.
    public var column: String
    /// The column's 0-based position.
    public var columnIndex: Int
    /// The column's PostgreSQL type.
    public var postgresType: PostgresDataType
    /// The Swift type asked for.
    public var targetType: String
    /// What did not fit.
    public var reason: String

    public var description: String {
        "cannot decode column \"\(column)\" (#\(columnIndex), \(postgresType)) as \(targetType): \(reason)"
    }
}

/// Column names and types of a result, shared by its rows.
public struct PostgresColumns: Sendable {
    /// Column names in order.
    public let names: [String]
    /// Column type OIDs in order.
    public let types: [PostgresDataType]

    /// The index of a column by name.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// One row of a result, as PostgreSQL's text output (nil for NULL).
public struct PostgresRow: Sendable {
    /// The result's columns.
    public let columns: PostgresColumns
    /// The cells, nil for NULL.
    public let values: [String?]

    /// Decodes the column at `index`.
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, at index: Int) throws -> T {
        guard index >= 0, index < values.count else {
            throw PostgresDecodingError(
                column: "#\(index)", columnIndex: index, postgresType: .unspecified, targetType: "\(T.self)",
                reason: "the row has \(values.count) columns")
        }
        do {
            if let text = values[index] {
                return try T.decode(postgres: text, type: columns.types[index])
            }
            return try T.decodeNull()
        } catch {
            throw PostgresDecodingError(
                column: columns.names[index], columnIndex: index, postgresType: columns.types[index],
                targetType: "\(T.self)", reason: error.reason)
        }
    }

    /// Decodes the column named `column`.
    public func decode<T: PostgresDecodable>(_ column: String, as _: T.Type = T.self) throws -> T {
        guard let index = columns.index(of: column) else {
            throw PostgresDecodingError(
                column: column, columnIndex: -1, postgresType: .unspecified, targetType: "\(T.self)",
                reason: "no such column (have: \(columns.names.joined(separator: ", ")))")
        }
        return try decode(T.self, at: index)
    }

    /// Decodes the whole row into a tuple, one element per column: `row.decode((Int, String).self)`.
    public func decode<each T: PostgresDecodable>(_: (repeat each T).Type) throws -> (repeat each T) {
        var arity = 0
        for _ in repeat (each T).self { arity += 1 }
        guard arity == values.count else {
            throw PostgresDecodingError(
                column: "*", columnIndex: -1, postgresType: .unspecified, targetType: "tuple of \(arity)",
                reason: "the row has \(values.count) columns")
        }
        var index = -1
        func next<U: PostgresDecodable>(_: U.Type) throws -> U {
            index += 1
            return try decode(U.self, at: index)
        }
        return (repeat try next((each T).self))
    }
}

/// The rows and command tag of one executed statement.
public struct PostgresResult: Sendable, Sequence {
    /// The columns (empty for statements that return no rows).
    public let columns: PostgresColumns
    /// All rows, already decoded from libpq's buffers.
    public let rows: [PostgresRow]
    /// The command tag (`INSERT 0 1`, `SELECT 3`…).
    public let commandTag: String
    /// Rows affected by INSERT/UPDATE/DELETE/COPY/SELECT, from the command tag.
    public let affectedRows: Int

    /// Iterates the rows.
    public func makeIterator() -> IndexingIterator<[PostgresRow]> { rows.makeIterator() }

    /// Decodes every row into a tuple.
    public func decode<each T: PostgresDecodable>(_ types: (repeat each T).Type) throws -> [(repeat each T)] {
        try rows.map { try $0.decode(types) }
    }

    /// Decodes the single column of every row.
    public func decodeColumn<T: PostgresDecodable>(_: T.Type = T.self) throws -> [T] {
        try rows.map { try $0.decode(T.self, at: 0) }
    }

    /// The first row, if any.
    public var first: PostgresRow? { rows.first }
}
