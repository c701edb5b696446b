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

    /// The list's name (`payments`), also bound into its cursors.
    public let name: String
    /// The filters it accepts.
    public let filters: [ListFilter]
    /// `FROM` clause; the row alias is `t`.
    let from: String
    /// SQL producing the row's JSON object (`json`).
    let json: String
    /// The condition on the row `t` per filter, given the filter's value (bound). The `provider`
    /// and `environment` filters choose pairs instead, and `customer_id` also names one.
    let conditions: [String: Condition]
    /// The time part of the order key (an indexed expression).
    let timeKey: String
    /// The unique part of the order key and its SQL type.
    let tiebreakKey: String, tiebreakType: String
    /// The parent of a nested list (a wallet's transactions), whose pair is the list's only one.
    let scope: Scope?

    /// The (provider, environment) pair of the row of `table` whose id is `id`, as two scalar
    /// subqueries (so the index's leading columns get plain values).
    static func pair(of table: String, id: String) -> (provider: PostgresQuery, environment: PostgresQuery) {
        (
            "(SELECT p.provider FROM billing.\(identifier: table) p WHERE p.id = \(id)::uuid)",
            "(SELECT p.environment FROM billing.\(identifier: table) p WHERE p.id = \(id)::uuid)"
        )
    }

    /// A `json_build_object` of `fields` (name, SQL expression) — at most 50 fields.
    static func object(_ fields: [(String, String)]) -> String {
        precondition(fields.count <= 50, "json_build_object takes at most 100 arguments")
        return "json_build_object(" + fields.map { "'\($0.0)', \($0.1)" }.joined(separator: ", ") + ")"
    }

    /// Columns of the same name.
    static func columns(_ names: String..., alias: String = "t") -> [(String, String)] { names.map { ($0, "\(alias).\($0)") } }

    /// Currency amounts as decimal text in the one money format (`billing.money`: at least the
    /// currency's minor-unit digits, never rounded), with the row's `currency`.
    static func money(_ names: String..., alias: String = "t") -> [(String, String)] {
        names.map { ($0, "billing.money(\(alias).\($0), \(alias).currency)::text") }
    }

    /// Exact decimals that are not currency amounts (credits, conversion rates) as given.
    static func exact(_ names: String..., alias: String = "t") -> [(String, String)] { names.map { ($0, "\(alias).\($0)::text") } }

    /// The JSON of a read-model row: `id, object, provider, environment, provider_id`, then
    /// `fields`, then `created_at, updated_at`.
    static func readModelJSON(_ object: String, _ fields: [(String, String)], alias: String = "t") -> String {
        let t = alias
        return self.object(
            [
                ("id", "\(t).id"), ("object", "'\(object)'"), ("provider", "\(t).provider"), ("environment", "\(t).environment"),
                ("provider_id", "\(t).provider_id"),
            ] + fields + [("created_at", "\(t).created_at"), ("updated_at", "\(t).updated_at")])
    }

    /// A read-model list ordered by (`created_at`, `id`) with the common filters and `filters`.
    static func readModelList(
        _ name: String, object: String, filters: [ListFilter], json fields: [(String, String)], conditions: [String: Condition] = [:],
        scope: Scope? = nil
    ) -> ListResource {
        let common: [String: Condition] = ["provider_id": { "t.provider_id = \($0)" }, "customer_id": { "t.customer_id = \($0)::uuid" }]
        return ListResource(
            name: name, filters: [.provider, .environment, .providerID] + filters, from: "billing.\(name) t",
            json: readModelJSON(object, fields), conditions: common.merging(conditions) { $1 }, timeKey: "t.created_at",
            tiebreakKey: "t.id", tiebreakType: "uuid", scope: scope)
    }
}
