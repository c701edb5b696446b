import BillingCore
import Postgres

/// One list of the query API: its table, the JSON of a row (built by PostgreSQL, so numbers stay
/// exact text and the API only concatenates), its filters and its order key.
///
/// A list is read per (provider, environment) pair, each through an index that starts with both
/// (migration 0007), and the pairs' pages are merged: so no filter can make the planner walk a
/// whole-table index in order and drop the rows of other providers, which costs a scan of most of
/// the table when the wanted rows are older than the rest (a backfilled provider).
public struct ListResource: Sendable {
    /// A filter's condition on the row `t`, with the filter's value bound where it goes.
    typealias Condition = @Sendable (_ value: String) -> PostgresQuery

    /// The parent of a nested list: its table and the row's column naming it.
    struct Scope: Sendable {
        let table: String, column: String
    }

    /// A member of a row's JSON: its name, the SQL expression of its value, and the table column
    /// it shows (nil for a computed member).
    struct Field: Sendable {
        var name: String
        var value: PostgresQuery
        var column: String?
    }

    /// The list's name (`payments`), also bound into its cursors.
    public let name: String
    /// The filters it accepts.
    public let filters: [ListFilter]
    /// `FROM` clause; the row alias is `t`.
    let from: PostgresQuery
    /// SQL producing the row's JSON object (`json`).
    let json: PostgresQuery
    /// The condition on the row `t` per filter, given the filter's value (bound). The `provider`
    /// and `environment` filters choose pairs instead, and `customer_id` also names one.
    let conditions: [String: Condition]
    /// The time part of the order key (an indexed expression).
    let timeKey: PostgresQuery
    /// The unique part of the order key and its SQL type.
    let tiebreakKey: PostgresQuery, tiebreakType: SQLType
    /// The parent of a nested list (a wallet's transactions), whose pair is the list's only one.
    let scope: Scope?
    /// Members appended to the JSON of one object shown by id (a customer's subscriptions…): SQL
    /// over the row `t` and its id `this.object_id`, which nested subqueries with their own `t` see.
    var detail: [Field] = []

    /// The (provider, environment) pair of the row of `table` whose id is `id`, as two scalar
    /// subqueries (so the index's leading columns get plain values).
    static func pair(of table: String, id: String) -> (provider: PostgresQuery, environment: PostgresQuery) {
        (
            "(SELECT p.provider FROM billing.\(identifier: table) p WHERE p.id = \(id)::uuid)",
            "(SELECT p.environment FROM billing.\(identifier: table) p WHERE p.id = \(id)::uuid)"
        )
    }

    /// A `json_build_object` of `fields` — at most 50 fields.
    static func object(_ fields: [Field]) -> PostgresQuery {
        precondition(fields.count <= 50, "json_build_object takes at most 100 arguments")
        let arguments = PostgresQuery.joined(fields.map { "\(literal: $0.name), \($0.value)" }, separator: ", ")
        return "json_build_object(\(arguments))"
    }

    /// A computed member.
    static func field(_ name: String, _ value: PostgresQuery, column: String? = nil) -> Field {
        Field(name: name, value: value, column: column)
    }

    /// Columns of the same name.
    static func columns(_ names: String..., alias: String = "t") -> [Field] {
        names.map { Field(name: $0, value: "\(identifier: alias).\(identifier: $0)", column: $0) }
    }

    /// Currency amounts as decimal text in the one money format (`billing.money`: at least the
    /// currency's minor-unit digits, never rounded), with the row's `currency`.
    static func money(_ names: String..., alias: String = "t") -> [Field] {
        names.map {
            Field(name: $0, value: "billing.money(\(identifier: alias).\(identifier: $0), \(identifier: alias).currency)::text", column: $0)
        }
    }

    /// Exact decimals that are not currency amounts (credits, conversion rates) as given.
    static func exact(_ names: String..., alias: String = "t") -> [Field] {
        names.map { Field(name: $0, value: "\(identifier: alias).\(identifier: $0)::text", column: $0) }
    }

    /// The JSON of a read-model row of `table`: `id, object, provider, environment, provider_id`,
    /// then `fields`, then `created_at, updated_at`. The shown columns, the bookkeeping ones (first
    /// seen, the registers' versions, the provider's creation time shown as `created_at`) and
    /// `hidden` together must be exactly ``ReadModelTable/columns`` (checked on first use, so every
    /// test of a list checks it): a column added to a register is either shown or named as hidden.
    static func readModelJSON(
        _ table: ReadModelTable, _ object: String, _ fields: [Field], hidden: Set<String> = [], alias: String = "t"
    ) -> PostgresQuery {
        let all =
            columns("id", alias: alias) + [field("object", "\(literal: object)")]
            + columns("provider", "environment", "provider_id", alias: alias) + fields + columns("created_at", "updated_at", alias: alias)
        let drift = columnDrift(table, shown: Set(all.compactMap(\.column)), hidden: hidden)
        precondition(drift == nil, drift ?? "")
        return self.object(all)
    }

    /// Why `shown` and `hidden` (beside the bookkeeping columns) are not exactly the columns of
    /// `table`, or nil when they are.
    static func columnDrift(_ table: ReadModelTable, shown: Set<String>, hidden: Set<String>) -> String? {
        let hidden = hidden.union(["first_seen_at", "provider_created_at"] + table.registers.flatMap(\.versionColumns).map(\.name))
        let known = Set(table.columns.map(\.name))
        guard !shown.isDisjoint(with: hidden) || shown.union(hidden) != known else { return nil }
        return "\(table.rawValue): not columns \(shown.union(hidden).subtracting(known).sorted()), "
            + "neither shown nor hidden \(known.subtracting(shown).subtracting(hidden).sorted()), "
            + "shown and hidden \(shown.intersection(hidden).sorted())"
    }

    /// A read-model list ordered by (`created_at`, `id`) with the common filters and `filters`.
    static func readModelList(
        _ table: ReadModelTable, object: String, filters: [ListFilter], json fields: [Field], hidden: Set<String> = [],
        conditions: [String: Condition] = [:], scope: Scope? = nil
    ) -> ListResource {
        let common: [String: Condition] = ["provider_id": { "t.provider_id = \($0)" }, "customer_id": { "t.customer_id = \($0)::uuid" }]
        return ListResource(
            name: table.rawValue, filters: [.provider, .environment, .providerID] + filters, from: "billing.\(identifier: table.rawValue) t",
            json: readModelJSON(table, object, fields, hidden: hidden), conditions: common.merging(conditions) { $1 },
            timeKey: "t.created_at", tiebreakKey: "t.id", tiebreakType: .uuid, scope: scope)
    }
}
