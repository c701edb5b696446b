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
    /// rows are read again, by their keys, to build their JSON. Not by `ctid`: in the partitioned
    /// log two partitions hold rows with the same `ctid`; the time key (for events, the partition
    /// key) prunes the second read to one partition and the tiebreak key (an id, a position)
    /// finds the row there by its index.
    public static func listQuery(_ resource: ListResource, _ request: ListRequest, scope: UUID? = nil) -> PostgresQuery {
        var conditions: [PostgresQuery] = []
        // The pairs are literals: a prepared statement's cached generic plan must still see them.
        var providers = Provider.allCases.map { (provider) -> PostgresQuery in "\(literal: provider.rawValue)" }
        var environments = ProviderEnvironment.allCases.map { (environment) -> PostgresQuery in "\(literal: environment.rawValue)" }
        var onlyPair: (provider: PostgresQuery, environment: PostgresQuery)?
        if let scope, let parent = resource.scope {
            conditions.append("t.\(identifier: parent.column) = \(scope.postgresText)::uuid")
            onlyPair = ListResource.pair(of: parent.table, id: scope.postgresText)
        }
        for (name, value) in request.filters.sorted(by: { $0.key < $1.key }) {
            let text: String =
                switch value {
                case let .text(text): text
                case let .id(id): id.postgresText
                case let .time(micros): PostgresTimestamp.format(microseconds: micros)
                }
            switch name {
            case "provider": providers = ["\(text)"]
            case "environment": environments = ["\(text)"]
            default:
                guard let condition = resource.conditions[name] else { continue }
                conditions.append("(\(condition(text)))")
                if name == "customer_id" { onlyPair = ListResource.pair(of: "customers", id: text) }
            }
        }
        let pairs: [(provider: PostgresQuery, environment: PostgresQuery)]
        if let onlyPair {
            // A filter on provider or environment beside it must still hold.
            if providers.count == 1 { conditions.append("t.provider = \(providers[0])") }
            if environments.count == 1 { conditions.append("t.environment = \(environments[0])") }
            pairs = [onlyPair]
        } else {
            pairs = providers.flatMap { provider in environments.map { (provider, $0) } }
        }
        let direction: PostgresQuery = request.ascending ? "ASC" : "DESC"
        if let after = request.after {
            let time = PostgresTimestamp.format(microseconds: after.time)
            conditions.append(
                """
                (\(resource.timeKey), \(resource.tiebreakKey)) \(request.ascending ? ">" : "<" as PostgresQuery) \
                (\(time)::timestamptz, \(after.tiebreak)::\(resource.tiebreakType.sql))
                """)
        }
        let limit = request.limit + 1
        // The limit is a literal for the same reason as the pairs.
        let order: PostgresQuery = "\(resource.timeKey) \(direction), \(resource.tiebreakKey) \(direction) LIMIT \(literal: limit)"
        func pairPage(_ pair: (provider: PostgresQuery, environment: PostgresQuery), columns: PostgresQuery) -> PostgresQuery {
            let filters = PostgresQuery.joined(
                ["t.provider = \(pair.provider)", "t.environment = \(pair.environment)"] + conditions, separator: " AND ")
            return "SELECT \(columns) FROM \(resource.from) WHERE \(filters) ORDER BY \(order)"
        }
        let page: PostgresQuery
        if pairs.count == 1 {
            page = pairPage(
                pairs[0],
                columns: """
                    \(resource.json)::text AS json, (extract(epoch FROM \(resource.timeKey)) * 1000000)::bigint AS key_time,
                    \(resource.tiebreakKey)::text AS key_tiebreak
                    """)
        } else {
            let keys = PostgresQuery.joined(
                pairs.map {
                    "(\(pairPage($0, columns: "\(resource.timeKey) AS time_key, \(resource.tiebreakKey) AS tiebreak_key")))"
                }, separator: " UNION ALL ")
            page = """
                SELECT \(resource.json)::text AS json, (extract(epoch FROM keys.time_key) * 1000000)::bigint AS key_time,
                       keys.tiebreak_key::text AS key_tiebreak
                FROM (\(keys)
                      ORDER BY time_key \(direction), tiebreak_key \(direction) LIMIT \(literal: limit)) AS keys
                JOIN \(resource.from) ON \(resource.timeKey) = keys.time_key AND \(resource.tiebreakKey) = keys.tiebreak_key
                ORDER BY keys.time_key \(direction), keys.tiebreak_key \(direction)
                """
        }
        // The page is the inner side of a nested loop over one row, so its order is kept.
        return "SELECT \(position), page.* FROM (SELECT 1) AS one LEFT JOIN LATERAL (\(page)) AS page ON true"
    }
}
