import BillingCore
import Postgres

extension SQLType {
    /// The type's name as SQL text, for casts (`::numeric`): a literal per case, so no text from
    /// elsewhere reaches the statement.
    var sql: PostgresQuery {
        switch self {
        case .text: "text"
        case .numeric: "numeric"
        case .timestamptz: "timestamptz"
        case .integer: "integer"
        case .bigint: "bigint"
        case .boolean: "boolean"
        case .jsonb: "jsonb"
        case .uuid: "uuid"
        case .bytea: "bytea"
        }
    }
}
