import BillingStore
import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

/// What only real processes show: SIGTERM in the middle of a burst, and projector election and
/// failover between two `serve` processes on one database.
@Suite struct ServeLifecycleTests {
    /// Outcomes of a burst.
    private struct Burst {
        var next = 0
        var acknowledged: Set<String> = []
        var answeredOther = 0
        var failed: Set<String> = []
    }

    /// The burst's state, shared by its workers.
    private final class Shared: Sendable {
        let burst = Mutex(Burst())
        let terminated = Atomic<Bool>(false)
    }

    @Test func sigtermDuringABurstLosesNoAcknowledgedDelivery() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let serve = try ServeProcess(configuration: configuration, environment: ServeSupport.environment)
            try await serve.waitUntilUp()
            let shared = Shared()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        var failuresAfterTerm = 0
                        while failuresAfterTerm < 3 {
                            let id = shared.burst.withLock { state in
                                state.next += 1
                                return "burst-\(state.next)"
                            }
                            do {
                                let answer = try await ServeSupport.mintcash(serve, eventID: id)
                                shared.burst.withLock { state in
                                    if answer.status == 200, answer.text.contains(#""status":"stored""#) {
                                        state.acknowledged.insert(id)
                                    } else {
                                        state.answeredOther += 1
                                    }
                                }
                            } catch {
                                shared.burst.withLock { _ = $0.failed.insert(id) }
                                if shared.terminated.load(ordering: .relaxed) {
                                    failuresAfterTerm += 1
                                } else {
                                    try await Task.sleep(for: .milliseconds(10))
                                }
                            }
                        }
                    }
                }
                while shared.burst.withLock({ $0.acknowledged.count }) < 300 { try await Task.sleep(for: .milliseconds(10)) }
                let signalled = ContinuousClock.now
                serve.signal(SIGTERM)
                shared.terminated.store(true, ordering: .relaxed)
                let status = try await serve.waitForExit(timeout: .seconds(30))
                let shutdown = signalled.duration(to: .now)
                #expect(status == 0, "exit status \(status):\n\(serve.log)")
                #expect(shutdown < .seconds(25), "the grace period is 25 s; shutdown took \(shutdown)")
                try await group.waitForAll()
                print("sigterm burst: shutdown took \(shutdown)")
            }

            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: TestDatabase.logger)
            let stored = Set(try await ServeSupport.storedMintcashIDs(pool))
            let deliveryRows = try await pool.query("SELECT count(*) FROM billing.deliveries WHERE outcome = 'stored'").decodeColumn(Int.self)[0]
            await pool.close()
            let outcome = shared.burst.withLock { $0 }
            let missing = outcome.acknowledged.subtracting(stored)
            #expect(missing.isEmpty, "acknowledged but not stored: \(missing.sorted().prefix(10))")
            #expect(stored.isSubset(of: outcome.acknowledged.union(outcome.failed)), "stored events nobody sent")
            #expect(outcome.answeredOther == 0, "every answer before the listener closed was an acknowledgement")
            #expect(deliveryRows == stored.count, "the delivery log was flushed on shutdown")
            print(
                """
                sigterm burst: \(outcome.acknowledged.count) acknowledged, all stored; \(outcome.failed.count) not answered \
                (\(stored.subtracting(outcome.acknowledged).count) of them stored anyway, the rest absent)
                """)
        }
    }

    @Test func aRequestOutlivingTheGracePeriodIsCancelledAndTheProcessExits() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let serve = try ServeProcess(
                configuration: configuration, arguments: ["--role", "receiver,api", "--shutdown-grace-seconds", "1"],
                environment: ServeSupport.environment.merging(["QUERY_POSITION_TIMEOUT_MS": "60000"]) { $1 })
            try await serve.waitUntilUp()
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 1), logger: TestDatabase.logger)
            let token = try await APIKeyStore(pool: pool).create(name: "grace").token
            await pool.close()
            // No projector runs, so waiting for the stored event's position lasts up to 60 s.
            #expect(try await ServeSupport.mintcash(serve, eventID: "grace-1").status == 200)
            let waiting = Task {
                try await RawHTTP.send(
                    port: serve.port, path: "/v1/payments?min_position=1", headers: [("Authorization", "Bearer \(token)")], timeout: 70)
            }
            try await Task.sleep(for: .milliseconds(500))
            let signalled = ContinuousClock.now
            serve.signal(SIGTERM)
            let status = try await serve.waitForExit(timeout: .seconds(20))
            let shutdown = signalled.duration(to: .now)
            #expect(status == 0, "\(serve.log)")
            #expect(shutdown < .seconds(7), "grace 1 s; shutdown took \(shutdown)")
            let answer = await waiting.result
            if case let .success(response) = answer { Issue.record("the cancelled request was answered: \(response.status) \(response.text)") }
            #expect(serve.log.contains("request cancelled"))
        }
    }

    @Test func twoProjectorsElectOneRunnerPerProjectionAndTheStandbyTakesOver() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            let arguments = ["--role", "receiver,projector", "--projection-poll-ms", "200"]
            let first = try ServeProcess(configuration: configuration, arguments: arguments, environment: ServeSupport.environment)
            try await first.waitUntilUp()
            let second = try ServeProcess(configuration: configuration, arguments: arguments, environment: ServeSupport.environment)
            try await second.waitUntilUp()
            let projections = ["customers", "subscriptions", "payments", "wallets"]
            func active(_ serve: ServeProcess) async throws -> Set<String> {
                let metrics = try await serve.metrics()
                return Set(projections.filter { metrics[#"billing_events_projection_active{projection="\#($0)"}"#] == 1 })
            }
            // Read from the database, not from a metric: the operations probe samples lag every few
            // seconds, and a sample taken before the deliveries says 0.
            let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 2), logger: TestDatabase.logger)
            func applied() async throws -> Int64 {
                try await pool.query("SELECT events_applied FROM billing.projection_checkpoints WHERE name = 'payments'").decodeColumn(
                    Int64.self
                ).first ?? 0
            }

            // Deliveries to both receivers; every projection has exactly one runner.
            for index in 0..<40 {
                #expect(try await ServeSupport.mintcash(index % 2 == 0 ? first : second, eventID: "p-\(index)").status == 200)
            }
            #expect(try await ServeSupport.eventually { try await applied() == 40 }, "payments did not apply 40 events")
            let firstActive = try await active(first)
            let secondActive = try await active(second)
            #expect(
                firstActive.isDisjoint(with: secondActive) && firstActive.union(secondActive) == Set(projections),
                "first runs \(firstActive), second \(secondActive)")

            // The runner of payments dies; the other process takes every projection over.
            let (victim, survivor) = firstActive.contains("payments") ? (first, second) : (second, first)
            let killed = ContinuousClock.now
            victim.signal(SIGKILL)
            _ = try await victim.waitForExit()
            #expect(try await ServeSupport.eventually(timeout: .seconds(10)) { try await active(survivor) == Set(projections) })
            let takeover = killed.duration(to: .now)
            #expect(takeover < .seconds(5), "takeover took \(takeover)")
            print("projector failover: the standby took over in \(takeover)")

            for index in 40..<60 {
                #expect(try await ServeSupport.mintcash(survivor, eventID: "p-\(index)").status == 200)
            }
            #expect(
                try await ServeSupport.eventually { try await applied() == 60 },
                "payments did not apply 60 events; the survivor's log: \(survivor.log.suffix(4000))")
            let after = try await pool.query("SELECT events_applied, owner FROM billing.projection_checkpoints WHERE name = 'payments'")
                .map { try $0.decode((Int64, String).self) }
            #expect(after.first?.0 == 60)
            #expect(after.first?.1.hasSuffix("pid \(survivor.pid)") == true)
            await pool.close()
            survivor.signal(SIGTERM)
            #expect(try await survivor.waitForExit() == 0)
        }
    }
}
