import BillingCore
import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

/// The log partitioned by month of event time (migration 0011), against a real server: events of
/// months without a partition wait in `billing.events_default` and move to their month untouched,
/// exactly-once holds across partitions through `billing.event_keys`, the commit-order reader
/// neither skips nor repeats while rows move, and an unpartitioned log with data upgrades in place.
@Suite struct PartitionedLogTests {
    /// Where a stored event sits: its partition, position and transaction id.
    struct Placement: Equatable {
        var table: String
        var position: Int64
        var transactionID: UInt64
    }

    /// A MintCash payment with `eventID` whose `createdAt` (its occurred_at) is `createdAt`.
    static func mintcash(_ eventID: String = UUID().uuidString, createdAt: String) -> IncomingDelivery {
        let body = ProviderFixtures.mintcashPayment(eventID: eventID)
            .replacingOccurrences(of: #""createdAt":"2026-05-22T14:32:08.412Z""#, with: #""createdAt":"\#(createdAt)""#)
        return mintcashDelivery(eventID, body: body)
    }

    /// A Flexprice delivery of `body` under a new svix-id, signed at `time`: the id is no KSUID, so
    /// the signed webhook timestamp is its message time (occurred_at and the redelivery window).
    static func flexprice(_ body: String, at time: Date) -> IncomingDelivery {
        IncomingDelivery(
            provider: .flexprice, environment: .live, environmentIsExplicit: true, body: Array(body.utf8),
            deliveryID: "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: ""), deliveryTimestamp: time,
            signatureHeaders: ["webhook-signature": "v1,test"], secretFingerprint: "0123456789ab")
    }

    static func ingest(_ delivery: IncomingDelivery, into ingestor: EventIngestor) async throws -> IngestOutcome {
        try await ingestor.ingest(.event(try EventNormalizer.normalize(delivery), delivery), record: record())
    }

    /// The id and position of a stored outcome; nil for any other.
    static func stored(_ outcome: IngestOutcome) -> (id: UUID, position: Int64)? {
        if case let .stored(id, position) = outcome { (id, position) } else { nil }
    }

    /// The partition, position and transaction id of every stored event, by id.
    static func placements(_ pool: PostgresPool) async throws -> [UUID: Placement] {
        try await pool.query("SELECT id, tableoid::regclass::text, position, transaction_id FROM billing.events")
            .decode((UUID, String, Int64, UInt64).self)
            .reduce(into: [:]) { $0[$1.0] = Placement(table: $1.1, position: $1.2, transactionID: $1.3) }
    }

    static func count(_ pool: PostgresPool, _ query: PostgresQuery) async throws -> Int {
        try await pool.query(query).first?.decode(Int.self, at: 0) ?? -1
    }

    /// Events whose key row matches them: id, provider, dedupe key, position and event time.
    static func keyed(_ pool: PostgresPool) async throws -> Int {
        try await count(
            pool,
            """
            SELECT count(*) FROM billing.events e JOIN billing.event_keys k ON k.event_id = e.id AND k.position = e.position
              AND k.provider = e.provider AND k.dedupe_key = e.dedupe_key AND k.event_time = billing.event_time(e.occurred_at, e.received_at)
            """)
    }

    /// `billing.events_YYYY_MM` of the UTC month that holds `date`.
    static func partition(of date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month], from: date)
        return String(format: "billing.events_%04d_%02d", parts.year ?? 0, parts.month ?? 0)
    }

    /// Events of months without a partition (either side of a month boundary, to the microsecond,
    /// and years back) land in the default partition and lose nothing; `ensure` moves each to its
    /// month with id, position and transaction id unchanged, creates nothing the second time, and
    /// later events of those months go straight to their partition.
    @Test func eventsOfMonthsWithoutAPartitionWaitInTheDefaultAndMoveToTheirMonth() async throws {
        try await withMigratedPool { pool in
            let ingestor = EventIngestor(pool: pool, logger: TestDatabase.logger)
            let expected = [
                ("2031-01-31T23:59:59.999999Z", "billing.events_2031_01"), ("2031-02-01T00:00:00Z", "billing.events_2031_02"),
                ("2019-03-05T12:00:00Z", "billing.events_2019_03"),
            ]
            var ids: [String: UUID] = [:]
            for (time, _) in expected {
                ids[time] = try #require(Self.stored(try await Self.ingest(Self.mintcash(createdAt: time), into: ingestor))).id
            }
            // This month's partition exists (migrate created it): an event of now goes straight there.
            let now = Date()
            let current = Self.mintcash(createdAt: ISO8601DateFormatter().string(from: now))
            let currentID = try #require(Self.stored(try await Self.ingest(current, into: ingestor))).id
            let before = try await Self.placements(pool)
            #expect(before.count == 4)
            #expect(try await Self.count(pool, "SELECT count(*) FROM billing.event_keys") == 4)
            #expect(before[currentID]?.table == Self.partition(of: now))
            #expect(expected.allSatisfy { before[ids[$0.0] ?? UUID()]?.table == "billing.events_default" })
            // The boundary instant kept its microseconds (it is January's last, not February's first).
            #expect(try await Self.count(pool, "SELECT count(*) FROM billing.events WHERE occurred_at = '2031-01-31T23:59:59.999999Z'") == 1)

            let partitions = try await Self.count(pool, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'billing.events'::regclass")
            #expect(try await pool.perform { try EventPartitions.ensure(on: $0) } == 3)
            let after = try await Self.placements(pool)
            #expect(expected.allSatisfy { after[ids[$0.0] ?? UUID()]?.table == $0.1 }, "\(after)")
            #expect(after.mapValues(\.position) == before.mapValues(\.position) && after[currentID] == before[currentID])
            #expect(after.mapValues(\.transactionID) == before.mapValues(\.transactionID))
            #expect(try await Self.count(pool, "SELECT count(*) FROM billing.events_default") == 0)
            #expect(try await Self.count(pool, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'billing.events'::regclass") == partitions + 3)
            // The key table still locates each moved event in its month.
            #expect(try await Self.keyed(pool) == 4)

            // A second run finds every partition there.
            #expect(try await pool.perform { try EventPartitions.ensure(on: $0) } == 0)
            #expect(try await Self.count(pool, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'billing.events'::regclass") == partitions + 3)

            // Later events of those months go straight to their partitions.
            let laterID = try #require(Self.stored(try await Self.ingest(Self.mintcash(createdAt: "2031-02-14T08:00:00Z"), into: ingestor))).id
            #expect(try await Self.placements(pool)[laterID]?.table == "billing.events_2031_02")
            #expect(try await Self.count(pool, "SELECT count(*) FROM billing.events_default") == 0)
            let listed = try await pool.perform { try EventPartitions.list(exact: true, on: $0) }
            #expect(listed.first { $0.table == "events_2031_02" }?.events == 2)
        }
    }

    /// One MintCash event delivered 20 times at once, each copy claiming another month (so another
    /// partition), is stored once: one row in the log and one key, every other copy answered as a
    /// duplicate of that row's id and position.
    @Test func concurrentCopiesClaimingDifferentMonthsAreStoredOnce() async throws {
        try await withMigratedPool { pool in
            // One submission per transaction, eight at a time: the copies race each other.
            let ingestor = EventIngestor(
                pool: pool, options: .init(maximumBatchSize: 1, maximumConcurrentBatches: 8), logger: TestDatabase.logger)
            let eventID = UUID().uuidString
            let outcomes = try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
                for index in 0..<20 {
                    let time = String(format: "%04d-%02d-15T12:00:00Z", 2030 + index / 12, 1 + index % 12)
                    group.addTask { try await Self.ingest(Self.mintcash(eventID, createdAt: time), into: ingestor) }
                }
                return try await group.reduce(into: [IngestOutcome]()) { $0.append($1) }
            }
            let stored = outcomes.compactMap(Self.stored)
            let duplicates = outcomes.compactMap { if case let .duplicate(id, position) = $0 { (id, position) } else { nil } }
            try #require(stored.count == 1, "\(outcomes)")
            #expect(duplicates.count == 19)
            #expect(duplicates.allSatisfy { $0 == stored[0] })
            #expect(stored[0].0 == NormalizedEvent.id(provider: .mintcash, dedupeKey: eventID))
            #expect(try await Self.count(pool, "SELECT count(*) FROM billing.events") == 1)
            #expect(try await Self.count(pool, "SELECT count(*) FROM billing.event_keys") == 1)
            #expect(try await Self.keyed(pool) == 1)
            #expect(try await Self.placements(pool)[stored[0].0]?.position == stored[0].1)
        }
    }

    /// Flexprice re-sends one event under a new svix-id: the same body of the same type two hours
    /// later, across a month boundary (so into another partition), is a duplicate of the first;
    /// thirty hours later it is a new event, whose own window still holds after `ensure` moved it.
    @Test func aFlexpriceRedeliveryAcrossAMonthBoundaryIsADuplicateAndADayLaterANewEvent() async throws {
        try await withMigratedPool { pool in
            let ingestor = EventIngestor(pool: pool, logger: TestDatabase.logger)
            let body =
                #"{"event_type":"wallet.credit_balance.dropped","wallet":{"id":"wallet_part","customer_id":"cust_part","currency":"usd","balance":"5","credit_balance":"5","wallet_status":"active"}}"#
            let first = Date(timeIntervalSince1970: 1_919_718_000)  // 2030-10-31T23:00:00Z
            // October has a partition, November none: the copies would land in different partitions.
            #expect(try await pool.perform { try EventPartitions.ensure(monthsOf: [first], on: $0) } == 1)
            let (id, position) = try #require(Self.stored(try await Self.ingest(Self.flexprice(body, at: first), into: ingestor)))
            #expect(try await Self.placements(pool)[id]?.table == "billing.events_2030_10")
            let resent = try await Self.ingest(Self.flexprice(body, at: first + 2 * 3_600), into: ingestor)
            #expect(resent == .duplicate(eventID: id, position: position))

            let again = try await Self.ingest(Self.flexprice(body, at: first + 30 * 3_600), into: ingestor)
            let (againID, againPosition) = try #require(Self.stored(again), "a repeat 30 hours later is a new event")
            #expect(againID != id && againPosition > position)
            #expect(try await Self.placements(pool)[againID]?.table == "billing.events_default")
            #expect(try await pool.perform { try EventPartitions.ensure(on: $0) } == 1)
            #expect(try await Self.placements(pool)[againID]?.table == "billing.events_2030_11")
            // Within 24 h of the second stored copy (and beyond the first's window) after the move.
            let late = try await Self.ingest(Self.flexprice(body, at: first + 40 * 3_600), into: ingestor)
            #expect(late == .duplicate(eventID: againID, position: againPosition))
            #expect(try await Self.count(pool, "SELECT count(*) FROM billing.events") == 2)
            #expect(try await Self.count(pool, "SELECT count(*) FROM billing.event_keys") == 2)
        }
    }

    /// Six writers store events of six months (four without a partition) while a reader follows
    /// the log in commit order and `ensure` moves the default partition's rows halfway through:
    /// every acknowledged event is stored and read exactly once, in increasing (transaction id,
    /// position) order. (Each once failed: the move lost events committed between its copy and its
    /// delete, a read planned during the move passed the moved events, and inserts racing the move
    /// were refused.)
    @Test func theCommitOrderReaderNeitherSkipsNorRepeatsWhileRowsMoveOutOfTheDefault() async throws {
        try await withMigratedPool { pool in
            let ingestor = EventIngestor(pool: pool, options: .init(maximumBatchSize: 8, maximumConcurrentBatches: 3), logger: TestDatabase.logger)
            let now = EventPartitions.month(of: Date())
            let months =
                [now + 3 * 86_400, now + 40 * 86_400].map { ISO8601DateFormatter().string(from: $0) }
                + ["2019-07-04T10:00:00Z", "2024-02-29T23:59:59Z", "2031-03-01T00:00:00Z", "2031-04-30T12:00:00Z"]
            let (writers, perWriter) = (6, 40)
            let total = writers * perWriter

            // Halfway, `ensure` runs (again after a failure, as the receivers' minute loop would).
            async let ensured = { () async throws -> (created: Int, failures: Int) in
                while try await Self.count(pool, "SELECT count(*) FROM billing.events") < total / 2 {
                    try await Task.sleep(for: .milliseconds(5))
                }
                var failures = 0
                while failures < 50 {
                    if let created = try? await pool.perform({ try EventPartitions.ensure(on: $0) }) { return (created, failures) }
                    failures += 1
                    try await Task.sleep(for: .milliseconds(20))
                }
                return (0, failures)
            }()
            async let read = { () async throws -> [StoredEvent] in
                var events: [StoredEvent] = []
                let deadline = ContinuousClock.now + .seconds(120)
                while events.count < total, ContinuousClock.now < deadline {
                    let after = events.last?.checkpoint ?? .start
                    let batch = try await pool.perform { try EventLogReader.read(after: after, limit: 50, on: $0) }
                    events += batch
                    guard batch.isEmpty else { continue }
                    // Every delivery acknowledged and nothing after the checkpoint: what is missing was passed.
                    let done: PostgresQuery = """
                        SELECT (SELECT count(*) FROM billing.deliveries WHERE outcome = 'stored') = \(total) AND NOT EXISTS
                            (SELECT FROM billing.events WHERE (transaction_id, position) > (\(String(after.transactionID))::xid8, \(after.position)))
                        """
                    if try await pool.query(done).first?.decode(Bool.self, at: 0) == true { break }
                    try await Task.sleep(for: .milliseconds(5))
                }
                return events
            }()
            // A delivery refused with 500 is sent again, as a provider would.
            let refused = try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        var refused = 0
                        for index in 0..<perWriter {
                            let delivery = Self.mintcash(createdAt: months[(writer + index) % months.count])
                            var attempts = 1
                            while (try? await Self.ingest(delivery, into: ingestor)) == nil, attempts < 50 { attempts += 1 }
                            refused += attempts - 1
                        }
                        return refused
                    }
                }
                return try await group.reduce(0, +)
            }
            let (created, failures) = try await ensured
            let events = try await read
            let stored = try await pool.query("SELECT id, transaction_id, position FROM billing.events").decode((UUID, UInt64, Int64).self)
            let checkpoints = Dictionary(uniqueKeysWithValues: stored.map { ($0.0, LogCheckpoint(transactionID: $0.1, position: $0.2)) })
            #expect(created == 4)
            #expect(refused == 0 && failures == 0, "\(refused) deliveries refused, \(failures) ensure runs failed")
            let (lost, unread) = (total - stored.count, Set(stored.map(\.0)).subtracting(events.map(\.event.id)).count)
            #expect(lost == 0 && events.allSatisfy { checkpoints[$0.event.id] != nil }, "\(lost) acknowledged events lost")
            #expect(unread == 0, "\(unread) stored events never read")
            #expect(Set(events.map(\.event.id)).count == events.count)
            #expect(events.allSatisfy { event in checkpoints[event.event.id].map { $0 == event.checkpoint } ?? true })
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.checkpoint < $1.checkpoint })
            // Every event sits in its month's partition (none is left in the default partition).
            let misplaced: PostgresQuery = """
                SELECT count(*) FROM billing.events
                WHERE tableoid::regclass::text <> 'billing.events_' || to_char(billing.event_time(occurred_at, received_at) AT TIME ZONE 'UTC', 'YYYY_MM')
                """
            #expect(try await Self.count(pool, misplaced) == 0)
        }
    }

    /// While `ensure` creates a month (its transaction holds the default partition until it
    /// commits), a commit-order read and an insert of that month wait; then the read returns the
    /// moved event before a later one (never passes it) and the insert is stored in the new
    /// partition. (Both were once planned with the partitions before the attach: the read missed
    /// the moved event, which a projector then passed for good, and the insert failed the default
    /// partition's new constraint, 23514, answered 500.)
    @Test func aReadAndAnInsertWaitingForAMonthBeingCreatedSeeItsPartition() async throws {
        try await withMigratedPool { pool in
            let ingestor = EventIngestor(pool: pool, logger: TestDatabase.logger)
            let moved = try #require(Self.stored(try await Self.ingest(Self.mintcash(createdAt: "2031-03-05T00:00:00Z"), into: ingestor)))
            let now = ISO8601DateFormatter().string(from: Date())
            let later = try #require(Self.stored(try await Self.ingest(Self.mintcash(createdAt: now), into: ingestor)))
            let creator = try await PostgresConnection.connect(pool.configuration, logger: TestDatabase.logger)
            try await creator.query("BEGIN")
            #expect(try await creator.query("SELECT billing.create_event_month('2031-03-01')").first?.decode(Bool.self, at: 0) == true)
            let read = Task { try await pool.perform { try EventLogReader.read(after: .start, limit: 10, on: $0) } }
            let insert = Task { try await Self.ingest(Self.mintcash(createdAt: "2031-03-10T00:00:00Z"), into: ingestor) }
            let waiting: PostgresQuery = """
                SELECT count(*) FROM pg_locks WHERE NOT granted
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """
            for _ in 0..<1_500 {
                if try await Self.count(pool, waiting) == 2 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(try await Self.count(pool, waiting) == 2)
            try await creator.query("COMMIT")
            await creator.close()
            // The read may stop short (another test's transaction holds the horizon), never pass the moved event.
            let readIDs = try await read.value.map(\.event.id)
            #expect(readIDs.isEmpty || readIDs.first == moved.id, "read \(readIDs), moved \(moved.id), later \(later.id)")
            let id = try #require(Self.stored(try await insert.value)).id
            #expect(try await Self.placements(pool)[id]?.table == "billing.events_2031_03")
        }
    }

    /// A log migrated up to 0010 with 300 events (Flexprice rows, rows without occurred_at) upgrades
    /// in place: the old table becomes the partition `events_legacy` without unique constraints,
    /// every row reads back unchanged through `billing.events` and `analytics.events`, each has its
    /// key, old events are still recognized as duplicates and new ones are positioned after them.
    @Test func anUnpartitionedLogWithDataUpgradesInPlace() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await PostgresPool.withPool(configuration, options: .init(maxConnections: 8), logger: TestDatabase.logger) { pool in
                let migrations = try Migration.bundled()
                try await MigrationRunner(pool: pool, migrations: migrations.filter { $0.version <= 10 }, logger: TestDatabase.logger).migrate()
                for (provider, type, kind, prefix) in [
                    ("mintcash", "payment.succeeded", "payment", "legacy-mc-"),
                    ("flexprice", "wallet.credit_balance.dropped", "wallet", "msg_legacy_"),
                    ("mintfax", "fax.delivered", "fax", "evt_legacy_"),
                ] {
                    // The columns of 0002; one transaction per provider, every fifth non-Flexprice row without occurred_at.
                    try await pool.query(
                        """
                        INSERT INTO billing.events (id, provider, environment, event_type, entity_kind, entity_provider_id, occurred_at, as_of,
                            amount, currency, dedupe_key, provider_event_id, body_sha256, raw_body, channel, delivery_id, received_at)
                        SELECT gen_random_uuid(), \(provider), 'live', \(type), \(kind), 'ent_' || n,
                            CASE WHEN n % 5 = 0 AND \(provider) <> 'flexprice' THEN NULL ELSE timestamptz '2024-01-15 10:00Z' + n * interval '3 days' END,
                            timestamptz '2024-01-15 10:00Z' + n * interval '3 days', n + 0.5, 'USD', \(prefix) || n,
                            CASE WHEN \(provider) <> 'flexprice' THEN \(prefix) || n END, sha256(body), body, 'webhook',
                            CASE WHEN \(provider) = 'flexprice' THEN \(prefix) || n END, timestamptz '2024-01-16 10:00Z' + n * interval '3 days'
                        FROM generate_series(1, 100) n, LATERAL (SELECT convert_to(\(prefix) || n, 'UTF8') AS body) b
                        """)
                }
                // A Flexprice event as the receiver stored it before 0011 (occurred_at is its message time).
                let body = #"{"event_type":"wallet.credit_balance.dropped","wallet":{"id":"wallet_old","currency":"usd","balance":"5"}}"#
                let sent = Date(timeIntervalSince1970: 1_717_243_200)  // 2024-06-01T12:00:00Z
                let old = Self.flexprice(body, at: sent)
                let oldEvent = try EventNormalizer.normalize(old)
                let oldPosition = try await pool.query(
                    """
                    INSERT INTO billing.events (id, provider, environment, event_type, entity_kind, entity_provider_id, occurred_at, as_of,
                        dedupe_key, body_sha256, raw_body, channel, delivery_id, received_at)
                    VALUES (\(oldEvent.id), 'flexprice', 'live', \(oldEvent.eventType), \(oldEvent.entityKind.rawValue), \(oldEvent.entityID),
                        \(oldEvent.occurredAt), \(oldEvent.asOf), \(oldEvent.dedupeKey), \(Data(old.bodySHA256)), \(Data(old.body)), 'webhook',
                        \(old.deliveryID), \(sent)) RETURNING position
                    """
                ).first?.decode(Int64.self, at: 0)
                let rows: PostgresQuery = "SELECT to_jsonb(e)::text FROM billing.events e ORDER BY position"
                let analytics: PostgresQuery = "SELECT to_jsonb(a)::text FROM analytics.events a ORDER BY position"
                let before = try await pool.query(rows).decodeColumn(String.self)
                let analyticsBefore = try await pool.query(analytics).decodeColumn(String.self)
                let newest = try await Self.count(pool, "SELECT max(position) FROM billing.events")
                let keyed = try await pool.query("SELECT id, position FROM billing.events WHERE dedupe_key = 'legacy-mc-7'").first?.decode(
                    (UUID, Int64).self)
                try #require(before.count == 301 && oldPosition != nil && keyed != nil)

                #expect(try await MigrationRunner(pool: pool, migrations: migrations, logger: TestDatabase.logger).migrate().map(\.version) == [11])
                let bound = try await pool.query(
                    "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = 'billing.events_legacy'::regclass AND relispartition"
                ).first?.decode(String.self, at: 0)
                #expect(bound?.hasPrefix("FOR VALUES FROM (MINVALUE) TO (") == true)
                #expect(try await pool.query(rows).decodeColumn(String.self) == before)
                #expect(try await pool.query(analytics).decodeColumn(String.self) == analyticsBefore)
                #expect(try await Self.keyed(pool) == 301)
                #expect(try await Self.count(pool, "SELECT count(*) FROM billing.event_keys") == 301)
                // No primary key, unique or exclusion constraint (nor their indexes) is left on the old table.
                let unique: PostgresQuery =
                    "SELECT count(*) FROM pg_index WHERE indrelid = 'billing.events_legacy'::regclass AND (indisunique OR indisexclusion)"
                #expect(try await Self.count(pool, unique) == 0)

                let ingestor = EventIngestor(pool: pool, logger: TestDatabase.logger)
                let repeated = try await Self.ingest(Self.mintcash("legacy-mc-7", createdAt: "2024-02-05T10:00:00Z"), into: ingestor)
                #expect(repeated == .duplicate(eventID: keyed?.0 ?? UUID(), position: keyed?.1 ?? 0))
                let resent = try await Self.ingest(Self.flexprice(body, at: sent + 3 * 3_600), into: ingestor)
                #expect(resent == .duplicate(eventID: oldEvent.id, position: oldPosition ?? 0))
                let new = try #require(Self.stored(try await Self.ingest(Self.mintcash(createdAt: "2024-03-01T00:00:00Z"), into: ingestor)))
                #expect(new.position > newest)

                // analytics.event_months lists the legacy and default partitions and the months after
                // the legacy bound (this month is the legacy partition's: it ends after now).
                let listed = try await pool.perform { try EventPartitions.list(exact: true, on: $0) }
                let names = Set(listed.compactMap(\.table))
                let month = EventPartitions.month(of: Date())
                #expect(names.isSuperset(of: ["events_legacy", "events_default"]))
                #expect(names.contains(String(Self.partition(of: month + 40 * 86_400).dropFirst(8))))
                #expect(!names.contains(String(Self.partition(of: month).dropFirst(8))))
                #expect(listed.first { $0.table == "events_legacy" }?.events == 302)
                #expect(listed.reduce(0) { $0 + $1.events } == 302)
            }
        }
    }
}
