import Foundation

/// SQL text with bound parameters, built by string interpolation.
///
/// Every interpolated value becomes a `$n` placeholder and a bind, never SQL text:
/// `"SELECT * FROM t WHERE id = \(id)"` sends `SELECT * FROM t WHERE id = $1`. Identifiers go through
/// `\(identifier:)`, and raw fragments only through the loudly named `\(unescaped:)`.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The statement text with `$n` placeholders.
    public private(set) var sql: String
    /// The parameters in placeholder order.
    public private(set) var binds: [PostgresBind]

    /// A statement whose text is used verbatim; the caller vouches it holds no untrusted input.
    public init(unsafeSQL sql: String, binds: [PostgresBind] = []) {
        self.sql = sql
        self.binds = binds
    }

    /// A literal statement without parameters.
    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    /// Builds the statement from interpolation segments.
    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    /// The SQL text only; bound values stay out of logs.
    public var description: String { sql }

    /// Appends another query, renumbering its placeholders after this one's.
    public mutating func append(_ other: PostgresQuery) {
        sql += Self.renumber(other.sql, offset: binds.count)
        binds += other.binds
    }

    /// `parts` one after the other with `separator` (SQL text) between them, each part's
    /// placeholders renumbered after the ones before it.
    public static func joined(_ parts: [PostgresQuery], separator: String) -> PostgresQuery {
        var query = PostgresQuery(unsafeSQL: "")
        for (index, part) in parts.enumerated() {
            if index > 0 { query.sql += separator }
            query.append(part)
        }
        return query
    }

    /// Shifts `$n` placeholders by `offset`, leaving quoted text alone.
    static func renumber(_ sql: String, offset: Int) -> String {
        guard offset > 0 else { return sql }
        // Over UTF-8 bytes: every byte that matters here is ASCII, and a list statement of a few
        // kilobytes is renumbered on every request.
        let text = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 16)
        var quote: UInt8?
        var index = 0
        while index < text.count {
            let byte = text[index]
            index += 1
            if let open = quote {
                out.append(byte)
                if byte == open { quote = nil }
                continue
            }
            if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                quote = byte
                out.append(byte)
                continue
            }
            guard byte == UInt8(ascii: "$") else {
                out.append(byte)
                continue
            }
            let start = index
            while index < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[index]) { index += 1 }
            out.append(byte)
            if let number = Int(String(decoding: text[start..<index], as: UTF8.self)) {
                out.append(contentsOf: String(number + offset).utf8)
            } else {
                out.append(contentsOf: text[start..<index])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Collects SQL text and binds while a query literal is interpolated.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql: String
        var binds: [PostgresBind]

        /// Reserves room for the literal.
        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds = []
            binds.reserveCapacity(interpolationCount)
        }

        /// Appends SQL text from the literal itself.
        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds a value as the next `$n` parameter.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            binds.append(value.postgresBind)
            sql += "$\(binds.count)"
        }

        /// Binds an optional value; nil binds NULL with the wrapped type. (A separate overload so
        /// that interpolating an optional is not flagged as an accident.)
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            binds.append(value.postgresBind)
            sql += "$\(binds.count)"
        }

        /// Appends an identifier (table, column, schema, channel) quoted with `"` doubling.
        public mutating func appendInterpolation(identifier: String) {
            sql += PostgresQuery.quoteIdentifier(identifier)
        }

        /// Appends a string as a quoted SQL literal (`'` doubled), for the few places where the
        /// planner must see the value itself (a plan cached for a prepared statement would not).
        public mutating func appendInterpolation(literal value: String) {
            sql += PostgresQuery.quoteLiteral(value)
        }

        /// Appends an integer as a SQL literal (`LIMIT 26`), for the same reason.
        public mutating func appendInterpolation(literal value: Int) {
            sql += String(value)
        }

        /// Appends raw SQL text. Only for fragments the program itself built; never for input.
        public mutating func appendInterpolation(unescaped fragment: String) {
            sql += fragment
        }

        /// Appends another query, keeping its binds.
        public mutating func appendInterpolation(_ query: PostgresQuery) {
            sql += PostgresQuery.renumber(query.sql, offset: binds.count)
            binds += query.binds
        }
    }

    /// Quotes an identifier the way PostgreSQL's `quote_ident` does: always, with `"` doubled.
    public static func quoteIdentifier(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Quotes a string literal for the few places PostgreSQL takes no parameter (`LISTEN`, `SET`).
    public static func quoteLiteral(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
