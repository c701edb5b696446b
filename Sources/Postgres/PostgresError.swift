/// An error reported by PostgreSQL or by libpq, with the server's diagnostic fields.
///
/// `description` names only the code and the constraint, so logging an error never leaks row data
/// that PostgreSQL quotes in messages; `debugDescription` has everything.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// SQLSTATE code: an open set, so codes this file does not name still compare and match.
    public struct Code: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The five-character SQLSTATE.
        public let rawValue: String

        /// Wraps a SQLSTATE string.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// Wraps a SQLSTATE literal.
        public init(stringLiteral value: String) { self.rawValue = value }

        /// The SQLSTATE itself.
        public var description: String { rawValue }
        /// The two-character class (`"23"` for integrity violations).
        public var sqlClass: Substring { rawValue.prefix(2) }

        /// 23505 unique_violation.
        public static let uniqueViolation: Code = "23505"
        /// 23503 foreign_key_violation.
        public static let foreignKeyViolation: Code = "23503"
        /// 23502 not_null_violation.
        public static let notNullViolation: Code = "23502"
        /// 23514 check_violation.
        public static let checkViolation: Code = "23514"
        /// 22P02 invalid_text_representation.
        public static let invalidTextRepresentation: Code = "22P02"
        /// 40001 serialization_failure.
        public static let serializationFailure: Code = "40001"
        /// 40P01 deadlock_detected.
        public static let deadlockDetected: Code = "40P01"
        /// 57014 query_canceled (also raised by `statement_timeout`).
        public static let queryCanceled: Code = "57014"
        /// 57P01 admin_shutdown (the backend was terminated).
        public static let adminShutdown: Code = "57P01"
        /// 42P01 undefined_table.
        public static let undefinedTable: Code = "42P01"
        /// 42601 syntax_error.
        public static let syntaxError: Code = "42601"
        /// 42P04 duplicate_database.
        public static let duplicateDatabase: Code = "42P04"
        /// 08001: the client could not establish a connection.
        public static let unableToConnect: Code = "08001"
        /// 08006: the connection broke while in use.
        public static let connectionFailure: Code = "08006"
        /// 08003: the connection was already closed by this process.
        public static let connectionDoesNotExist: Code = "08003"
        /// 08P01: libpq reported a protocol-level failure without a SQLSTATE.
        public static let protocolViolation: Code = "08P01"
        /// 57P02 crash_shutdown (another backend crashed; this one was ended).
        public static let crashShutdown: Code = "57P02"
        /// 57P03 cannot_connect_now (the server is starting up or shutting down).
        public static let cannotConnectNow: Code = "57P03"
        /// 25P02 in_failed_sql_transaction (a statement failed; the transaction can only roll back).
        public static let inFailedSQLTransaction: Code = "25P02"
        /// 25006 read_only_sql_transaction (a write on a standby or in a read-only transaction).
        public static let readOnlySQLTransaction: Code = "25006"
        /// 26000 invalid_sql_statement_name (a prepared statement the session does not have).
        public static let invalidSQLStatementName: Code = "26000"
        /// 0A000 feature_not_supported (also "cached plan must not change result type").
        public static let featureNotSupported: Code = "0A000"
        /// 22021 character_not_in_repertoire (e.g. a NUL byte in text).
        public static let characterNotInRepertoire: Code = "22021"
        /// P0002 no_data_found.
        public static let noDataFound: Code = "P0002"

        /// Lets `catch PostgresError.Code.uniqueViolation` match a thrown ``PostgresError``.
        public static func ~= (pattern: Code, error: any Error) -> Bool {
            (error as? PostgresError)?.code == pattern
        }
    }

    /// The SQLSTATE.
    public var code: Code
    /// The primary message.
    public var message: String
    /// `ERROR`, `FATAL`, `PANIC` (non-localized); nil for client-side failures.
    public var severity: String?
    /// Secondary detail, often quoting the offending values.
    public var detail: String?
    /// A suggestion from the server.
    public var hint: String?
    /// The violated constraint, for integrity errors.
    public var constraint: String?
    /// The table the error is about.
    public var table: String?
    /// The column the error is about.
    public var column: String?
    /// The schema the error is about.
    public var schema: String?
    /// 1-based character position in the statement.
    public var position: Int?
    /// The SQL text that failed (never the bound values).
    public var query: String?

    /// Creates an error; the diagnostic fields default to nil.
    public init(
        code: Code, message: String, severity: String? = nil, detail: String? = nil, hint: String? = nil,
        constraint: String? = nil, table: String? = nil, column: String? = nil, schema: String? = nil,
        position: Int? = nil, query: String? = nil
    ) {
        self.code = code
        self.message = message
        self.severity = severity
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
        self.schema = schema
        self.position = position
        self.query = query
    }

    /// True when the connection that raised this cannot be used again (class 08, terminated backend).
    public var isConnectionLoss: Bool {
        code.sqlClass == "08" || code == .adminShutdown || code == .crashShutdown || code == .cannotConnectNow
            || severity == "FATAL" || severity == "PANIC"
    }

    /// True when the server rolled the transaction back because of concurrent transactions
    /// (deadlock, serialization failure, a row routed to a default partition while a concurrent
    /// transaction attached the partition for it): running the same transaction again may succeed.
    public var isTransactionConflict: Bool {
        code == .deadlockDetected || code == .serializationFailure
            // A partition constraint has no name, unlike every CHECK constraint (and the message
            // text follows the server's language).
            || (code == .checkViolation && constraint == nil && table != nil)
    }

    public var description: String {
        var text = "PostgresError(code: \(code)"
        if let constraint { text += ", constraint: \(constraint)" }
        if let table { text += ", table: \(table)" }
        return text + ")"
    }

    public var debugDescription: String {
        var parts = ["code: \(code)", "message: \(message)"]
        if let severity { parts.append("severity: \(severity)") }
        if let detail { parts.append("detail: \(detail)") }
        if let hint { parts.append("hint: \(hint)") }
        if let constraint { parts.append("constraint: \(constraint)") }
        if let schema { parts.append("schema: \(schema)") }
        if let table { parts.append("table: \(table)") }
        if let column { parts.append("column: \(column)") }
        if let position { parts.append("position: \(position)") }
        if let query { parts.append("query: \(query)") }
        return "PostgresError(" + parts.joined(separator: ", ") + ")"
    }
}
