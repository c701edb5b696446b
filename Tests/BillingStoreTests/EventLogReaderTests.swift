import BillingCore
import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct EventLogReaderTests {
    /// Inserts a minimal event row and returns its position.
    private func insert(_ key: String, on connection: PostgresConnection) async throws -> Int64 {
        try await connection.query(
            """
            INSERT INTO billing.events (position, id, provider, environment, event_type, entity_kind, as_of, dedupe_key, body_sha256,
                raw_body, channel, received_at)
            VALUES (nextval('billing.event_positions'), gen_random_uuid(), 'mintcash', 'live', 'payment.succeeded', 'payment', now(), \(key),
                sha256(convert_to(\(key), 'UTF8')), convert_to(\(key), 'UTF8'), 'webhook', now())
            RETURNING position
            """
        ).first!.decode(Int64.self, at: 0)
    }

    private func read(_ pool: PostgresPool, after checkpoint: LogCheckpoint) async throws -> [StoredEvent] {
        try await pool.withConnection { connection in
            try await connection.perform { connection in try EventLogReader.read(after: checkpoint, limit: 100, on: connection) }
        }
    }

    /// Reads from the start until `count` events are visible (at most 60 seconds: a long
    /// transaction of another test on the shared server holds the horizon back meanwhile).
    private func readUntil(_ pool: PostgresPool, count: Int) async throws -> [StoredEvent] {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        var events = try await read(pool, after: .start)
        while events.count < count, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            events = try await read(pool, after: .start)
        }
        return events
    }

    @Test func anEventCommittedLateBehindAHigherPositionIsReadNotSkipped() async throws {
        try await withMigratedPool { pool in
            let early = try await PostgresConnection.connect(pool.configuration, logger: TestDatabase.logger)
            let late = try await PostgresConnection.connect(pool.configuration, logger: TestDatabase.logger)
            try await early.query("BEGIN")
            let lowPosition = try await insert("low", on: early)
            try await late.query("BEGIN")
            let highPosition = try await insert("high", on: late)
            #expect(lowPosition < highPosition)
            try await late.query("COMMIT")

            // The higher position is committed, but the lower one's transaction is still open: a
            // position-based reader would pass it; this one waits.
            #expect(try await read(pool, after: .start).isEmpty)

            try await early.query("COMMIT")
            // Other tests share this server; their open transactions hold the horizon back briefly.
            let events = try await readUntil(pool, count: 2)
            try #require(events.map(\.checkpoint.position) == [lowPosition, highPosition])
            #expect(events[0].checkpoint < events[1].checkpoint)
            #expect(String(decoding: events[0].rawBody, as: UTF8.self) == "low")
            // Reading on from the last checkpoint finds nothing more, and nothing twice.
            #expect(try await read(pool, after: events[1].checkpoint).isEmpty)
            #expect(try await read(pool, after: events[0].checkpoint).map(\.checkpoint.position) == [highPosition])
            await early.close()
            await late.close()
        }
    }

    @Test func readsBackWhatTheReceiverStored() async throws {
        try await withMigratedPool { pool in
            let ingestor = EventIngestor(pool: pool, logger: TestDatabase.logger)
            let delivery = IncomingDelivery(
                provider: .mintfax, environment: .test, environmentIsExplicit: true, body: Array(ProviderFixtures.mintfaxBalance().utf8),
                deliveryID: "evt_8aZqRm4yT3vK7pNxJ2bH9c")
            let event = try EventNormalizer.normalize(delivery)
            _ = try await ingestor.ingest(.event(event, delivery), record: record())
            let stored = try #require(try await readUntil(pool, count: 1).first)
            #expect(stored.event == event)
            #expect(stored.event.provider == .mintfax && stored.event.environment == .test && stored.event.entityKind == .balance)
            #expect(stored.event.entityID == "env_01")
            #expect(stored.event.amountText == "45.50" && stored.event.currency == "USD")
            #expect(stored.event.asOf == Date(timeIntervalSince1970: 1_747_922_400))
            #expect(stored.rawBody == delivery.body)
            #expect(stored.checkpoint.transactionID > 0)
        }
    }
}
