import BillingCore
import BillingStore
import Foundation
import Postgres
import PostgresServer
import TestSupport
import Testing

/// The lists' plans on a skewed history: MintCash rows (a backfilled provider) and the test
/// environment's rows are older than everyone else's, which a planner that assumes rows spread evenly
/// over time gets wrong. Every page must read about what it returns — never most of the table —
/// and return what a plain `ORDER BY` returns.
@Suite struct ListPlanTests {
    static let signer = PageCursorSigner(key: Array(repeating: 1, count: 32))

    /// 60,000 events of about 1 KB and 30,000 customers and payments: a third each per provider
    /// (payments: MintCash and Flexprice), one in ten `test`; MintCash and `test` rows a year older.
    /// The events span 7 months from each start, so the log's pages merge many partitions (whose
    /// rows share `ctid`s: a page that read rows again by `ctid` returned other months' rows).
    static let seed = """
        INSERT INTO billing.events (position, id, provider, environment, event_type, entity_kind, entity_provider_id, customer_provider_id,
            occurred_at, as_of, dedupe_key, body_sha256, raw_body, channel, received_at)
        SELECT nextval('billing.event_positions'), gen_random_uuid(), s.provider, s.environment, s.provider || (CASE WHEN g % 2 = 0 THEN '.paid' ELSE '.created' END), 'payment',
            'e' || g, 'c' || (g % 300), s.at, s.at, 'k' || g, sha256(('b' || g)::bytea), convert_to(repeat('x', 1000) || g, 'UTF8'),
            'webhook', s.at
        FROM generate_series(1, 60000) AS g, LATERAL (
            SELECT p AS provider, e AS environment,
                CASE WHEN p = 'mintcash' OR e = 'test' THEN timestamptz '2025-01-01' ELSE timestamptz '2026-01-01' END + g * interval '5 min' AS at
            FROM (SELECT (ARRAY['flexprice', 'mintcash', 'mintfax'])[1 + g % 3] AS p, CASE WHEN g % 10 = 0 THEN 'test' ELSE 'live' END AS e) AS x
        ) AS s;
        SELECT billing.ensure_event_partitions();
        INSERT INTO billing.customers (id, provider, environment, provider_id, email, metadata, first_seen_at, updated_at, created_at)
        SELECT billing.read_model_id('customers', s.provider, s.environment, 'c' || g), s.provider, s.environment, 'c' || g,
            'u' || g || '@example.com', jsonb_build_object('note', repeat('m', 800)), s.at, s.at, s.at
        FROM generate_series(1, 30000) AS g, LATERAL (
            SELECT p AS provider, e AS environment,
                CASE WHEN p = 'mintcash' OR e = 'test' THEN timestamptz '2025-01-01' ELSE timestamptz '2026-01-01' END + g * interval '1 s' AS at
            FROM (SELECT (ARRAY['flexprice', 'mintcash', 'mintfax'])[1 + g % 3] AS p, CASE WHEN g % 10 = 0 THEN 'test' ELSE 'live' END AS e) AS x
        ) AS s;
        INSERT INTO billing.payments (id, provider, environment, provider_id, customer_id, customer_provider_id, status, amount, currency,
            failure_message, first_seen_at, updated_at, created_at)
        SELECT gen_random_uuid(), s.provider, 'live', 'p' || g, billing.read_model_id('customers', s.provider, 'live', 'c' || (g % 300)),
            'c' || (g % 300), CASE WHEN g % 4 = 0 THEN 'failed' ELSE 'succeeded' END, g, 'USD', repeat('f', 800), s.at, s.at, s.at
        FROM generate_series(1, 30000) AS g, LATERAL (
            SELECT p AS provider,
                CASE WHEN p = 'mintcash' OR g % 4 = 0 THEN timestamptz '2025-01-01' ELSE timestamptz '2026-01-01' END + g * interval '1 s' AS at
            FROM (SELECT (ARRAY['flexprice', 'mintcash'])[1 + g % 2] AS p) AS x
        ) AS s;
        ANALYZE billing.events, billing.customers, billing.payments;
        """

    /// A list, its query parameters and the `WHERE` of the plain reference query.
    struct Case: CustomStringConvertible {
        let resource: ListResource, parameters: [(name: String, value: String)], reference: String
        var description: String { resource.name + "?" + parameters.map { "\($0.name)=\($0.value)" }.joined(separator: "&") }
    }

    static let eventOrder = "billing.event_time(occurred_at, received_at) DESC, position DESC"
    static let customer = "billing.read_model_id('customers', 'mintcash', 'live', 'c7')"

    static let cases: [Case] = [
        Case(resource: .events, parameters: [], reference: "true"),
        Case(resource: .events, parameters: [("provider", "mintcash")], reference: "provider = 'mintcash'"),
        Case(resource: .events, parameters: [("provider", "flexprice")], reference: "provider = 'flexprice'"),
        Case(resource: .events, parameters: [("environment", "test")], reference: "environment = 'test'"),
        Case(resource: .events, parameters: [("type", "mintcash.paid")], reference: "event_type = 'mintcash.paid'"),
        Case(
            resource: .events, parameters: [("provider", "mintfax"), ("type", "mintfax.created"), ("environment", "live")],
            reference: "provider = 'mintfax' AND event_type = 'mintfax.created' AND environment = 'live'"),
        Case(resource: .events, parameters: [("customer_id", "8e0c1f5a-0000-4000-8000-000000000000")], reference: "false"),
        Case(resource: .customers, parameters: [], reference: "true"),
        Case(resource: .customers, parameters: [("provider", "mintcash")], reference: "provider = 'mintcash'"),
        Case(resource: .customers, parameters: [("environment", "test")], reference: "environment = 'test'"),
        Case(resource: .payments, parameters: [("provider", "mintcash")], reference: "provider = 'mintcash'"),
        Case(resource: .payments, parameters: [("status", "failed")], reference: "status = 'failed'"),
        Case(
            resource: .payments, parameters: [("provider", "flexprice"), ("status", "failed")],
            reference: "provider = 'flexprice' AND status = 'failed'"),
    ]

    @Test func everyPageReadsAboutWhatItReturnsAndEqualsAPlainOrderBy() async throws {
        // A cluster of its own: seeding holds a transaction id for seconds, which would hold back
        // the log readers of every other test on the shared server (they wait for older writers).
        let cluster = TestDatabase.privateCluster()
        defer { try? cluster.stopNow(mode: .immediate) }
        let configuration = try await cluster.start(logger: TestDatabase.logger)
        do {
            let pool = PostgresPool(configuration: configuration, logger: TestDatabase.logger)
            try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: TestDatabase.logger).migrate()
            try await pool.withConnection { _ = try await $0.simpleQuery(unsafeSQL: Self.seed) }
            let customerID = try await pool.query(PostgresQuery(unsafeSQL: "SELECT \(Self.customer)::text")).first!.decode(String.self, at: 0)
            let cases =
                Self.cases + [
                    Case(
                        resource: .events, parameters: [("customer_id", customerID)],
                        reference: "provider = 'mintcash' AND environment = 'live' AND customer_provider_id = 'c7'"),
                    Case(resource: .payments, parameters: [("customer_id", customerID)], reference: "customer_id = \(Self.customer)"),
                ]
            for testCase in cases {
                for ascending in [false, true] {
                    let parameters = testCase.parameters + [("limit", "20")] + (ascending ? [("order", "asc")] : [])
                    let first = try ListRequest(
                        parameters, resource: testCase.resource.name, filters: testCase.resource.filters, cursors: Self.signer)
                    let expected = try await reference(testCase, ascending: ascending, pool: pool)
                    #expect(try await page(testCase.resource, first, pool: pool) == Array(expected.prefix(21)), "\(testCase) first page")
                    let read = try await rowsRead(testCase.resource, first, pool: pool)
                    #expect(read <= 300, "\(testCase) first page read \(read) rows")
                    // A page from the middle, after a cursor.
                    guard expected.count > 60 else { continue }
                    let middle = try await pool.query(
                        PostgresQuery(
                            unsafeSQL: """
                                SELECT (extract(epoch FROM \(testCase.resource.name == "events" ? "billing.event_time(occurred_at, received_at)" : "created_at")) * 1000000)::bigint
                                FROM billing.\(testCase.resource.name) WHERE \(testCase.resource.name == "events" ? "position" : "id::text") = '\(expected[40])'
                                """)
                    ).first!.decode(Int64.self, at: 0)
                    let cursor = Self.signer.cursor(
                        after: PageKey(time: middle, tiebreak: expected[40]), binding: first.binding(resource: testCase.resource.name))
                    let next = try ListRequest(
                        parameters + [("cursor", cursor)], resource: testCase.resource.name, filters: testCase.resource.filters,
                        cursors: Self.signer)
                    #expect(try await page(testCase.resource, next, pool: pool) == Array(expected[41..<62]), "\(testCase) after a cursor")
                    let readNext = try await rowsRead(testCase.resource, next, pool: pool)
                    #expect(readNext <= 300, "\(testCase) after a cursor read \(readNext) rows")
                }
            }
            // A time range reads only its months' partitions, in the custom and the generic plan.
            let day = try ListRequest(
                [("occurred_gte", "2026-03-10T00:00:00Z"), ("occurred_lt", "2026-03-11T00:00:00Z"), ("limit", "20")], resource: "events",
                filters: ListResource.events.filters, cursors: Self.signer)
            #expect(try await page(.events, day, pool: pool).count == 21)
            #expect(try await partitionsRead(day, pool: pool) == ["events_2026_03"])
            let partitions = try await pool.query("SELECT count(*)::int8 FROM pg_inherits WHERE inhparent = 'billing.events'::regclass")
                .rows[0].decode(Int64.self, at: 0)
            #expect(partitions > 10)
            await pool.close()
        }
    }

    /// The tiebreak keys (`position` or `id`) of the first 200 rows of the plain query.
    func reference(_ testCase: Case, ascending: Bool, pool: PostgresPool) async throws -> [String] {
        let events = testCase.resource.name == "events"
        var order = events ? Self.eventOrder : "created_at DESC, id DESC"
        if ascending { order = order.replacingOccurrences(of: "DESC", with: "ASC") }
        return try await pool.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(events ? "position" : "id")::text FROM billing.\(testCase.resource.name) WHERE \(testCase.reference) ORDER BY \(order) LIMIT 200
                    """)
        ).decodeColumn(String.self)
    }

    /// The tiebreak keys of the page the API would return (the extra row that tells `has_more` included).
    func page(_ resource: ListResource, _ request: ListRequest, pool: PostgresPool) async throws -> [String] {
        try await pool.query(QueryStore.listQuery(resource, request)).compactMap { try $0.decode(String?.self, at: 3) }
    }

    /// The two plans of the page, run: the one made for the values, and the generic one a cached
    /// prepared statement switches to after five runs (the service's statement cache prepares).
    func plans(_ resource: ListResource, _ request: ListRequest, pool: PostgresPool) async throws -> [[String: Any]] {
        let query = QueryStore.listQuery(resource, request)
        let values = query.binds.map { PostgresQuery.quoteLiteral(String(decoding: $0.bytes ?? [], as: UTF8.self)) }
        let types = values.isEmpty ? "" : "(" + Array(repeating: "text", count: values.count).joined(separator: ", ") + ")"
        let arguments = values.isEmpty ? "" : "(" + values.joined(separator: ", ") + ")"
        let texts = try await pool.withConnection { connection in
            let custom = try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) " + query.sql, binds: query.binds))
                .first!.decode(String.self, at: 0)
            _ = try await connection.simpleQuery(
                unsafeSQL: """
                    SET plan_cache_mode = force_generic_plan;
                    PREPARE page\(types) AS \(query.sql)
                    """)
            let generic = try await connection.simpleQuery(
                unsafeSQL: """
                    EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE page\(arguments)
                    """
            ).first!.decode(String.self, at: 0)
            _ = try await connection.simpleQuery(unsafeSQL: "DEALLOCATE page; RESET plan_cache_mode")
            return [custom, generic]
        }
        return try texts.map { text in
            let plan = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
            return try #require(plan.first?["Plan"] as? [String: Any])
        }
    }

    /// Every node of `plan` that scanned the list's table or one of its partitions (`events_…`) at
    /// least once.
    func scans(_ resource: ListResource, _ node: [String: Any]) -> [[String: Any]] {
        let name = node["Relation Name"] as? String ?? ""
        let own = (name == resource.name || name.hasPrefix(resource.name + "_")) && (node["Actual Loops"] as? Int ?? 0) > 0 ? [node] : []
        return own + (node["Plans"] as? [[String: Any]] ?? []).flatMap { scans(resource, $0) }
    }

    /// Rows of the list's table that the page's plans read (returned by their scans or removed by
    /// their filters), the more of the two.
    func rowsRead(_ resource: ListResource, _ request: ListRequest, pool: PostgresPool) async throws -> Int {
        try await plans(resource, request, pool: pool).map { plan in
            scans(resource, plan).reduce(0) { total, node in
                total + ((node["Actual Rows"] as? Int ?? 0) + (node["Rows Removed by Filter"] as? Int ?? 0)) * (node["Actual Loops"] as? Int ?? 1)
            }
        }.max() ?? 0
    }

    /// The partitions of the log that either plan of the page read.
    func partitionsRead(_ request: ListRequest, pool: PostgresPool) async throws -> Set<String> {
        Set(try await plans(.events, request, pool: pool).flatMap { scans(.events, $0) }.compactMap { $0["Relation Name"] as? String })
    }
}
