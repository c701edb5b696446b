import BillingCore
import BillingStore
import Foundation
import Postgres
import TestSupport
import Testing

/// Runs `body` with a pool on a fresh, migrated database.
func withMigratedPool(_ body: (PostgresPool) async throws -> Void) async throws {
    try await TestDatabase.withFreshDatabase { configuration in
        try await PostgresPool.withPool(configuration, options: .init(maxConnections: 8), logger: TestDatabase.logger) { pool in
            try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: TestDatabase.logger).migrate()
            try await body(pool)
        }
    }
}

/// A MintCash delivery of a payment event with `eventID`.
func mintcashDelivery(_ eventID: String = UUID().uuidString, body: String? = nil) -> IncomingDelivery {
    IncomingDelivery(
        provider: .mintcash, environment: .live, environmentIsExplicit: false,
        body: Array((body ?? ProviderFixtures.mintcashPayment(eventID: eventID)).utf8), signatureHeaders: ["x-signature": "ab"],
        secretFingerprint: "0123456789ab")
}

func record() -> DeliveryRecord {
    DeliveryRecord(receivedAt: Date(), provider: "mintcash", environment: "live", outcome: .stored, bodyBytes: 1)
}

@Suite struct EventIngestorTests {
    @Test func concurrentDeliveriesAreCommittedTogether() async throws {
        try await withMigratedPool { pool in
            let ingestor = EventIngestor(pool: pool, options: .init(maximumConcurrentBatches: 2), logger: TestDatabase.logger)
            let outcomes = try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
                for _ in 0..<300 {
                    group.addTask {
                        let delivery = mintcashDelivery()
                        return try await ingestor.ingest(.event(try EventNormalizer.normalize(delivery), delivery), record: record())
                    }
                }
                return try await group.reduce(into: [IngestOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.allSatisfy { if case .stored = $0 { true } else { false } })
            let (events, transactions) = try await pool.query(
                "SELECT count(*), count(DISTINCT transaction_id) FROM billing.events"
            ).first!.decode((Int, Int).self)
            #expect(events == 300)
            // Group commit: far fewer transactions than events.
            #expect(transactions < 150)
            let logged = try await pool.query("SELECT count(*) FROM billing.deliveries WHERE outcome = 'stored'").first!.decode(Int.self, at: 0)
            #expect(logged == 300)
        }
    }

    @Test func aRowTheDatabaseRefusesFailsOnlyItsOwnDelivery() async throws {
        try await withMigratedPool { pool in
            let ingestor = EventIngestor(pool: pool, logger: TestDatabase.logger)
            // Make one event unacceptable to the database: a currency the CHECK constraint refuses.
            let bad = mintcashDelivery()
            var poisoned = try EventNormalizer.normalize(bad)
            poisoned.currency = "usd"
            let event = poisoned
            let results = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await ingestor.ingest(.event(event, bad), record: record())) != nil }
                for _ in 0..<20 {
                    group.addTask {
                        let delivery = mintcashDelivery()
                        return (try? await ingestor.ingest(.event(try EventNormalizer.normalize(delivery), delivery), record: record())) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { !$0 }.count == 1)
            #expect(try await pool.query("SELECT count(*) FROM billing.events").first!.decode(Int.self, at: 0) == 20)
        }
    }

    @Test func refusedRequestsAreLoggedAndTheLogIsPruned() async throws {
        try await withMigratedPool { pool in
            let ingestor = EventIngestor(pool: pool, options: .init(deliveryLogLimit: 5), logger: TestDatabase.logger)
            for index in 0..<12 {
                var refused = record()
                refused.outcome = .refused
                refused.reason = "bad_signature: \(index)"
                await ingestor.log(refused)
            }
            await ingestor.flush()
            #expect(await ingestor.bufferedRecords == 0)
            let recent = try await DeliveryLog(pool: pool).recent(limit: 100)
            #expect(recent.count == 12)
            #expect(recent.first?.reason == "bad_signature: 11")
            #expect(try await ingestor.pruneDeliveryLog() == 7)
            let kept = try await DeliveryLog(pool: pool).recent(outcome: .refused, limit: 100)
            #expect(kept.map(\.reason) == (7..<12).reversed().map { "bad_signature: \($0)" })
        }
    }
}

@Suite struct QuarantineStoreTests {
    @Test func retryStoresWhatIsNowUnderstoodAndKeepsTheRest() async throws {
        try await withMigratedPool { pool in
            let ingestor = EventIngestor(pool: pool, logger: TestDatabase.logger)
            // Quarantined by an older build that did not know the type: understood now.
            let understood = mintcashDelivery("11111111-1111-1111-1111-111111111111")
            let first = try await ingestor.ingest(.quarantine(QuarantineReason(.unknownType, "old build"), understood), record: record())
            // Still not understood.
            let garbage = mintcashDelivery(body: "not json at all")
            _ = try await ingestor.ingest(.quarantine(QuarantineReason(.notJSON, "x"), garbage), record: record())
            // Already in the log under the same eventId: a retry finds the duplicate.
            let stored = mintcashDelivery("22222222-2222-2222-2222-222222222222")
            _ = try await ingestor.ingest(.event(try EventNormalizer.normalize(stored), stored), record: record())
            _ = try await ingestor.ingest(
                .quarantine(
                    QuarantineReason(.unknownType, "old"),
                    mintcashDelivery(
                        "22222222-2222-2222-2222-222222222222",
                        body: ProviderFixtures.mintcashPayment(eventID: "22222222-2222-2222-2222-222222222222") + " ")), record: record())

            let store = QuarantineStore(pool: pool)
            #expect(try await store.list().count == 3)
            let results = try await store.retry()
            guard case let .quarantined(firstID) = first else {
                Issue.record("not quarantined")
                return
            }
            #expect(results.count == 3)
            #expect(results.contains { if case .stored(firstID, _) = $0 { true } else { false } })
            #expect(results.contains { if case .duplicate = $0 { true } else { false } })
            #expect(results.contains { if case let .stillQuarantined(_, reason) = $0 { reason.code == .notJSON } else { false } })

            let open = try await store.list()
            #expect(open.count == 1)
            #expect(open.first?.attempts == 2)
            #expect(try await store.list(includeResolved: true).count == 3)
            // Nothing left to store: a second retry only touches the open entry.
            #expect(try await store.retry().count == 1)
            #expect(try await pool.query("SELECT count(*) FROM billing.events").first!.decode(Int.self, at: 0) == 2)
            let resolved = try await pool.query("SELECT event_id FROM billing.quarantine WHERE id = \(firstID)").first!.decode(UUID?.self, at: 0)
            #expect(resolved == NormalizedEvent.id(provider: .mintcash, dedupeKey: "11111111-1111-1111-1111-111111111111"))
        }
    }
}
