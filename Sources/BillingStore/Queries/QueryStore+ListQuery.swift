import BillingCore
import Foundation
import Postgres

extension QueryStore {
    /// The page statement of ``list(_:_:scope:)``, which wraps it in the key check (the benchmark
    /// runs this text through pgbench, so the API does the key lookup on top of what pgbench does).
    ///
    /// The rows come from the (provider, environment) pairs the filters allow: the customer's or
    /// the parent's one pair, else every provider (or the one asked for) in every environment (or
    /// the one asked for). One pair is one ordered index scan. Several are merged: each pair's page
    /// of keys from its own index, in order; the first `limit + 1` of them overall; then only those
    /// rows are read again, by their `ctid` within this statement, to build their JSON.
    public static func listQuery(_ resource: ListResource, _ request: ListRequest, scope: UUID? = nil) -> PostgresQuery {
        var binds: [PostgresBind] = []
        func bind(_ text: String) -> String {
            binds.append(text.postgresBind)
            return "$\(binds.count)"
        }
        var conditions: [String] = []
        var providers = Provider.allCases.map { "'\($0.rawValue)'" }
        var environments = ProviderEnvironment.allCases.map { "'\($0.rawValue)'" }
        var onlyPair: (provider: String, environment: String)?
        if let scope, let parent = resource.scope {
            let placeholder = bind(scope.postgresText)
            conditions.append("t.\(parent.column) = \(placeholder)::uuid")
            onlyPair = ListResource.pair(of: parent.table, id: placeholder)
        }
        for (name, value) in request.filters.sorted(by: { $0.key < $1.key }) {
            let text: String =
                switch value {
                case let .text(text): text
                case let .id(id): id.postgresText
                case let .time(micros): PostgresTimestamp.format(microseconds: micros)
                }
            switch name {
            case "provider": providers = [bind(text)]
            case "environment": environments = [bind(text)]
            default:
                guard let condition = resource.conditions[name] else { continue }
                let placeholder = bind(text)
                conditions.append("(" + fill(condition, with: placeholder) + ")")
                if name == "customer_id" { onlyPair = ListResource.pair(of: "customers", id: placeholder) }
            }
        }
        let pairs: [(provider: String, environment: String)]
        if let onlyPair {
            // A filter on provider or environment beside it must still hold.
            if providers.count == 1 { conditions.append("t.provider = \(providers[0])") }
            if environments.count == 1 { conditions.append("t.environment = \(environments[0])") }
            pairs = [onlyPair]
        } else {
            pairs = providers.flatMap { provider in environments.map { (provider, $0) } }
        }
        let direction = request.ascending ? "ASC" : "DESC"
        if let after = request.after {
            let time = bind(PostgresTimestamp.format(microseconds: after.time))
            let tiebreak = bind(after.tiebreak)
            conditions.append(
                "(\(resource.timeKey), \(resource.tiebreakKey)) \(request.ascending ? ">" : "<") (\(time)::timestamptz, \(tiebreak)::\(resource.tiebreakType))"
            )
        }
        let limit = request.limit + 1
        func pairPage(_ pair: (provider: String, environment: String), columns: String) -> String {
            """
            SELECT \(columns) FROM \(resource.from)
            WHERE \((["t.provider = \(pair.provider)", "t.environment = \(pair.environment)"] + conditions).joined(separator: " AND "))
            ORDER BY \(resource.timeKey) \(direction), \(resource.tiebreakKey) \(direction) LIMIT \(limit)
            """
        }
        let page: String
        if pairs.count == 1 {
            page = pairPage(
                pairs[0],
                columns: """
                    \(resource.json)::text AS json, (extract(epoch FROM \(resource.timeKey)) * 1000000)::bigint AS key_time,
                    \(resource.tiebreakKey)::text AS key_tiebreak
                    """)
        } else {
            let keys = pairs.map {
                "(" + pairPage($0, columns: "\(resource.timeKey) AS time_key, \(resource.tiebreakKey) AS tiebreak_key, t.ctid AS row") + ")"
            }
            page = """
                SELECT \(resource.json)::text AS json, (extract(epoch FROM keys.time_key) * 1000000)::bigint AS key_time,
                       keys.tiebreak_key::text AS key_tiebreak
                FROM (\(keys.joined(separator: " UNION ALL "))
                      ORDER BY time_key \(direction), tiebreak_key \(direction) LIMIT \(limit)) AS keys
                JOIN \(resource.from) ON t.ctid = keys.row
                ORDER BY keys.time_key \(direction), keys.tiebreak_key \(direction)
                """
        }
        // The page is the inner side of a nested loop over one row, so its order is kept.
        return PostgresQuery(
            unsafeSQL: "SELECT \(positionSQL), page.* FROM (SELECT 1) AS one LEFT JOIN LATERAL (\(page)) AS page ON true", binds: binds)
    }
}
