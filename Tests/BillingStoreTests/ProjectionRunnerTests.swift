import BillingCore
import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

@testable import BillingStore

@Suite struct ProjectionRunnerTests {
    private func history(seed: UInt64, entities: Int) throws -> [(event: NormalizedEvent, delivery: IncomingDelivery)] {
        var generator = HistoryGenerator(seed: seed)
        return try generator.history(entities: entities).map(intake)
    }

    private func dump(_ pool: PostgresPool) async throws -> [String] {
        try await pool.withConnection { connection in
            try await connection.perform { connection in try dumpReadModels(schema: "billing", on: connection) }
        }
    }

    private func rebuildAll(_ pool: PostgresPool) async throws {
        for projection in Projection.all {
            _ = try await ProjectionRebuilder.rebuild(projection, configuration: pool.configuration, batchSize: 37, logger: TestDatabase.logger)
        }
    }

    @Test func theRunnerFollowsTheLogAndARebuildComesOutEqual() async throws {
        try await withMigratedPool { pool in
            let history = try history(seed: 42, entities: 60)
            let shuffled = (history + history.prefix(20)).shuffled()
            let firstHalf = Array(shuffled.prefix(shuffled.count / 2))
            let secondHalf = Array(shuffled.dropFirst(shuffled.count / 2))
            let live = try await withProjector(pool) {
                async let first: Void = store(firstHalf, in: pool)
                async let second: Void = store(secondHalf, in: pool)
                _ = try await (first, second)
                try await waitUntilProjected(pool)
                return try await dump(pool)
            }
            let ordered = try await pool.withConnection { connection in
                try await connection.perform { connection in
                    try ProjectionRebuilder.createScratchTables(ReadModelTable.allCases, on: connection)
                    for item in history {
                        try ReadModelWriter.apply(
                            try ReadModelFold.writes(for: item.event, body: item.delivery.body), tables: ReadModelTable.allCases,
                            schema: "pg_temp", on: connection)
                    }
                    return try dumpReadModels(schema: "pg_temp", on: connection)
                }
            }
            #expect(live.count > 50)
            #expect(live == ordered)
            try await rebuildAll(pool)
            #expect(try await dump(pool) == live)
            let statuses = try await ProjectionStatus.load(on: pool)
            #expect(statuses.allSatisfy { $0.eventsBehind == 0 && $0.deadLetters == 0 && $0.rebuiltAt != nil })
        }
    }

    @Test func aLowerPositionCommittedLastIsProjectedNotSkipped() async throws {
        try await withMigratedPool { pool in
            let early = try intake(
                GeneratedDelivery(
                    provider: "mintcash", environment: "live", body: ProviderFixtures.mintcashPayment(eventID: UUID().uuidString), deliveryID: nil))
            let late = try intake(
                GeneratedDelivery(
                    provider: "mintcash", environment: "live",
                    body: ProviderFixtures.mintcashSubscription.replacingOccurrences(
                        of: "a3c5e7f9-1b2d-4e6f-8a0b-c1d2e3f4a5b6", with: UUID().uuidString
                    )
                    .replacingOccurrences(of: #""environment":"test""#, with: #""environment":"live""#), deliveryID: nil))
            try await withProjector(pool) {
                let slow = try await PostgresConnection.connect(pool.configuration, logger: TestDatabase.logger)
                // The first writer takes the lower position and stays open while a second one commits.
                try await slow.query("BEGIN")
                _ = try await slow.perform { connection in try EventIngestor.store(.event(early.event, early.delivery), on: connection) }
                try await store([late], in: pool)
                try await Task.sleep(for: .milliseconds(500))
                let positions = try await pool.query("SELECT position FROM billing.events ORDER BY transaction_id").decodeColumn(Int64.self)
                #expect(positions.isEmpty || positions == [2])
                #expect(try await pool.query("SELECT count(*) FROM billing.subscriptions").decodeColumn(Int64.self) == [0])
                try await slow.query("COMMIT")
                await slow.close()
                try await waitUntilProjected(pool)
                #expect(try await pool.query("SELECT position FROM billing.events ORDER BY transaction_id").decodeColumn(Int64.self) == [1, 2])
                #expect(
                    try await pool.query("SELECT status FROM billing.payments WHERE provider_id = 'pmt_01HXX'").decodeColumn(String.self) == [
                        "succeeded"
                    ])
                #expect(try await pool.query("SELECT status FROM billing.subscriptions").decodeColumn(String.self) == ["active"])
            }
        }
    }

    @Test func aPoisonEventIsRetriedThenParkedAndTheProjectionMovesOn() async throws {
        try await withMigratedPool { pool in
            let poison = try intake(
                GeneratedDelivery(
                    provider: "flexprice", environment: "live",
                    body: ProviderFixtures.flexpriceWalletTransactionFull.replacingOccurrences(
                        of: #""credit_balance_before":"0""#, with: #""credit_balance_before":"zero""#),
                    deliveryID: "msg_poison"))
            let healthy = try intake(
                GeneratedDelivery(provider: "flexprice", environment: "live", body: ProviderFixtures.flexpriceWalletAlert, deliveryID: "msg_ok"))
            let attempts = Mutex(0)
            var options = testProjectionOptions()
            options.onBatch = { projection, result in
                if projection == .wallets, result.failure != nil { attempts.withLock { $0 += 1 } }
            }
            try await withProjector(pool, options: options) {
                try await store([poison, healthy], in: pool)
                try await waitUntilProjected(pool)
                // An event folds whole or not at all: both projections that read it park it.
                let dead = try await pool.query(
                    "SELECT projection, event_type, error, attempts FROM billing.projection_dead_letters ORDER BY projection"
                )
                .decode((String, String, String, Int64).self)
                #expect(dead.map(\.0) == ["customers", "wallets"])
                #expect(dead.allSatisfy { $0.1 == "wallet.transaction.created" && $0.3 == 3 })
                #expect(dead.first?.2 == "transaction.credit_balance_before is not a decimal amount")
                #expect(attempts.withLock { $0 } == 2)
                // The event after it is projected.
                #expect(try await pool.query("SELECT provider_id FROM billing.wallets").decodeColumn(String.self) == ["wallet_02"])
                #expect(try await pool.query("SELECT provider_id FROM billing.customers").decodeColumn(String.self) == ["cust_02"])
                let status = try await ProjectionStatus.load(on: pool)
                #expect(status.first { $0.projection == .wallets }?.deadLetters == 1)
                #expect(status.allSatisfy { $0.eventsBehind == 0 })
            }
            try await rebuildAll(pool)
            #expect(try await pool.query("SELECT count(*) FROM billing.projection_dead_letters").decodeColumn(Int64.self) == [2])
        }
    }

    @Test func aRunnerKilledMidBatchResumesWithoutApplyingAnythingTwice() async throws {
        try await withMigratedPool { pool in
            let history = try history(seed: 7, entities: 300)
            try await store(history, in: pool)
            let killed = try await withProjector(pool, options: testProjectionOptions(batchSize: 20)) {
                var kills: Int64 = 0
                for _ in 0..<12 {
                    try await Task.sleep(for: .milliseconds(150))
                    kills +=
                        try await pool.query(
                            """
                            SELECT count(pg_terminate_backend(pid)) FROM pg_locks
                            WHERE locktype = 'advisory' AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                            """
                        ).decodeColumn(Int64.self).first ?? 0
                }
                try await waitUntilProjected(pool, timeout: .seconds(60))
                return kills
            }
            #expect(killed > 0)
            let live = try await dump(pool)
            for status in try await ProjectionStatus.load(on: pool) {
                let expected = try await pool.query(
                    "SELECT count(*) FROM billing.events WHERE \(status.projection.eventFilter)"
                )
                .decodeColumn(Int64.self)
                #expect([status.eventsApplied] == expected, "\(status.projection)")
            }
            try await rebuildAll(pool)
            #expect(try await dump(pool) == live)
        }
    }

    /// Fencing: a batch commits only on the session that holds the projection's lease. Without it
    /// (the lease was lost, or a pooler moved the transaction to another session) nothing is written.
    @Test func aBatchWithoutTheLeaseIsRefusedAndWritesNothing() async throws {
        try await withMigratedPool { pool in
            try await store(try history(seed: 11, entities: 5), in: pool)
            let policy = ProjectionBatch.Policy(maxAttempts: 1)
            try await pool.withConnection { connection in
                try await connection.perform { connection in
                    #expect(throws: ProjectionLeaseError.self) {
                        try ProjectionRunner.batch(.payments, limit: 100, policy: policy, owner: "fenced", on: connection)
                    }
                    #expect(try connection.execute("SELECT count(*) FROM billing.payments").rows[0].decode(Int.self, at: 0) == 0)
                    #expect(try connection.transaction { try ProjectionRunner.holdsLease(of: .payments, on: connection) } == false)
                    try connection.execute("SELECT pg_advisory_lock(\(ProjectionRunner.leaseKey(of: .payments)))")
                    #expect(try connection.transaction { try ProjectionRunner.holdsLease(of: .customers, on: connection) } == false)
                }
                // With the lease it applies (once other tests' open transactions no longer hold the log back).
                var applied = 0
                for _ in 0..<100 where applied == 0 {
                    applied += try await connection.perform { connection in
                        try ProjectionRunner.batch(.payments, limit: 100, policy: policy, owner: "leader", on: connection).applied.count
                    }
                    if applied == 0 { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(applied > 0)
                try await connection.query("SELECT pg_advisory_unlock_all()")
            }
        }
    }

    @Test func oneRunnerPerProjectionAcrossInstancesAndTheStandbyTakesOver() async throws {
        try await withMigratedPool { pool in
            let first = Projector(configuration: pool.configuration, options: testProjectionOptions(owner: "first"), logger: TestDatabase.logger)
            let second = Projector(configuration: pool.configuration, options: testProjectionOptions(owner: "second"), logger: TestDatabase.logger)
            let firstTask = Task { try await first.run() }
            try await Task.sleep(for: .milliseconds(500))
            let secondTask = Task { try await second.run() }
            defer { secondTask.cancel() }
            try await store(try history(seed: 3, entities: 20), in: pool)
            try await waitUntilProjected(pool)
            // Granted runner leases (a batch's transaction lock is advisory too, so match the lease keys).
            let holders = """
                SELECT count(*) FROM pg_locks l, unnest(ARRAY['customers', 'subscriptions', 'payments', 'wallets']) AS p(name)
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('billing-events/projection/' || p.name, 0)
                """
            #expect(try await pool.query(PostgresQuery(unsafeSQL: holders)).decodeColumn(Int64.self) == [4])
            #expect(
                try await pool.query("SELECT DISTINCT owner FROM billing.projection_checkpoints WHERE owner IS NOT NULL").decodeColumn(String.self)
                    == ["first"])

            firstTask.cancel()
            _ = await firstTask.result
            try await store(try history(seed: 4, entities: 20), in: pool)
            // Generous: other suites' open transactions on the shared server hold the horizon back.
            try await waitUntilProjected(pool, timeout: .seconds(60))
            let owners = try await pool.query("SELECT DISTINCT owner FROM billing.projection_checkpoints").decodeColumn(String.self)
            #expect(owners.contains("second"))
            #expect(try await pool.query(PostgresQuery(unsafeSQL: holders)).decodeColumn(Int64.self) == [4])
            secondTask.cancel()
            _ = await secondTask.result
        }
    }
}
