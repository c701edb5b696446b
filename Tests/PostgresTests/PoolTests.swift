import Foundation
import Postgres
import PostgresServer
import Synchronization
import TestSupport
import Testing

@Suite struct PoolTests {
    @Test func exhaustionTimesOutWithAClearError() async throws {
        let pool = PostgresPool(
            configuration: try await TestDatabase.server(),
            options: .init(maxConnections: 2, checkoutTimeout: .milliseconds(300)), logger: TestDatabase.logger)
        let holders = Task {
            try await withThrowingTaskGroup { group in
                for _ in 0..<2 { group.addTask { try await pool.query("SELECT pg_sleep(1.5)") } }
                try await group.waitForAll()
            }
        }
        try await eventually { await pool.statistics.inUse == 2 }
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: PostgresPoolError.self) { try await pool.query("SELECT 1") }
        #expect(error?.code == .checkoutTimeout)
        #expect(error?.message.contains("2 of 2 open") == true)
        #expect(clock.now - start >= .milliseconds(250))
        #expect(clock.now - start < .seconds(1))
        try await holders.value
        #expect(try await pool.query("SELECT 1").affectedRows == 1)
        #expect(await pool.statistics.open <= 2)
        await pool.close()
    }

    @Test func waitersAreServedFirstComeFirstServed() async throws {
        let pool = PostgresPool(
            configuration: try await TestDatabase.server(), options: .init(maxConnections: 1), logger: TestDatabase.logger)
        let order = Recorder()
        let holder = Task { try await pool.query("SELECT pg_sleep(0.5)") }
        try await eventually { await pool.statistics.inUse == 1 }
        var waiters: [Task<Void, any Error>] = []
        for index in 0..<5 {
            waiters.append(
                Task {
                    try await pool.withConnection { _ in await order.append(index) }
                })
            // Let each waiter queue before the next one starts.
            try await eventually { await pool.statistics.waiting == index + 1 }
        }
        #expect(await pool.statistics.waiting == 5)
        _ = try await holder.value
        for waiter in waiters { try await waiter.value }
        #expect(await order.values == [0, 1, 2, 3, 4])
        await pool.close()
    }

    @Test func cancelledWaitersLeaveTheQueue() async throws {
        let pool = PostgresPool(
            configuration: try await TestDatabase.server(), options: .init(maxConnections: 1), logger: TestDatabase.logger)
        let holder = Task { try await pool.query("SELECT pg_sleep(0.4)") }
        try await eventually { await pool.statistics.inUse == 1 }
        let waiter = Task { try await pool.query("SELECT 1") }
        try await eventually { await pool.statistics.waiting == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(await pool.statistics.waiting == 0)
        _ = try await holder.value
        await pool.close()
    }

    @Test func connectionsReturnedMidTransactionAreDiscarded() async throws {
        let pool = PostgresPool(
            configuration: try await TestDatabase.server(), options: .init(maxConnections: 1), logger: TestDatabase.logger)
        let first = try await pool.withConnection { connection in
            try await connection.query("BEGIN")
            return await connection.backendPID
        }
        let (second, reusable) = try await pool.withConnection { connection in (await connection.backendPID, await connection.isReusable) }
        #expect(first != second)
        #expect(reusable)
        await pool.close()
    }

    /// A server that refuses writes as read-only (a demoted primary, or libpq landing on a standby)
    /// must not keep the connection: the next checkout opens a new one, which finds the primary.
    @Test func aConnectionRefusedAsReadOnlyIsDiscarded() async throws {
        let pool = PostgresPool(
            configuration: try await TestDatabase.server(), options: .init(maxConnections: 1), logger: TestDatabase.logger)
        let first = try await pool.withConnection { connection in
            try await connection.query("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            await #expect(throws: PostgresError.self) { try await connection.query("CREATE TEMP TABLE refused (id int)") }
            return await connection.backendPID
        }
        let second = try await pool.perform { $0.backendPID }
        #expect(first != second)
        #expect(try await pool.query("SELECT current_setting('transaction_read_only')").rows[0].decode(String.self, at: 0) == "off")
        await pool.close()
    }

    /// PostgreSQL itself keeps each connection's session: the probe must not mistake it for a pooler
    /// (the pooler side is proven against Debian's pgbouncer in `scripts/faults`).
    @Test func theSessionProbeFindsNoPoolerOnPostgreSQLItself() async throws {
        let configuration = try await TestDatabase.server()
        do {
            #expect(try await PostgresSessionProbe.sharesSessions(configuration, logger: TestDatabase.logger) == false)
        } catch {
            Issue.record("the probe failed: \(String(reflecting: error))")
        }
    }

    @Test func recoversAfterTheBackendIsKilled() async throws {
        let pool = PostgresPool(
            configuration: try await TestDatabase.server(), options: .init(maxConnections: 1), logger: TestDatabase.logger)
        let victim = try await pool.withConnection { await $0.backendPID }
        let admin = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        try await terminate(victim, by: admin)
        // The idle connection is found dead at checkout and replaced: no error reaches the caller.
        let replacement = try await pool.withConnection { await $0.backendPID }
        #expect(replacement != victim)

        // Killed while checked out: that caller gets the error, the next one a fresh connection.
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { connection in
                try await admin.query("SELECT pg_terminate_backend(\(await connection.backendPID))")
                try await connection.query("SELECT 1")
            }
        }
        #expect(error?.isConnectionLoss == true)
        #expect(try await pool.query("SELECT 42").first?.decode(Int.self, at: 0) == 42)
        await admin.close()
        await pool.close()
    }

    /// Terminates backend `victim` and waits until it is gone, not just signalled (on a busy
    /// machine a fixed 100 ms was not always enough, and the pool then met a dying connection).
    private func terminate(_ victim: Int32, by admin: PostgresConnection) async throws {
        try await admin.query("SELECT pg_terminate_backend(\(victim))")
        for _ in 0..<200 {
            let alive = try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(victim)")
            if try alive.first!.decode(Int.self, at: 0) == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(50))
    }

    @Test func performReplacesDeadIdleConnectionsAndDiscardsOpenTransactions() async throws {
        let pool = PostgresPool(
            configuration: try await TestDatabase.server(), options: .init(maxConnections: 1), logger: TestDatabase.logger)
        let victim = try await pool.perform { $0.backendPID }
        let admin = try await PostgresConnection.connect(TestDatabase.server(), logger: TestDatabase.logger)
        try await terminate(victim, by: admin)
        // Found dead in the same hop that would have run the body; the body runs once, elsewhere.
        let runs = Mutex(0)
        let replacement = try await pool.perform { connection in
            runs.withLock { $0 += 1 }
            return try connection.execute("SELECT pg_backend_pid()").first!.decode(Int32.self, at: 0)
        }
        #expect(replacement != victim)
        #expect(runs.withLock { $0 } == 1)

        // An error inside the body reaches the caller and the connection stays in service.
        let error = await #expect(throws: PostgresError.self) { try await pool.perform { try $0.execute("SELECT 1/0") } }
        #expect(error?.code == "22012")
        #expect(try await pool.perform { $0.backendPID } == replacement)

        // Left inside a transaction: not reused.
        _ = try await pool.perform { try $0.execute("BEGIN") }
        let afterTransaction = try await pool.perform { $0.backendPID }
        #expect(afterTransaction != replacement)
        let statistics = await pool.statistics
        #expect(statistics.open == 1 && statistics.idle == 1)
        await admin.close()
        await pool.close()
    }

    @Test func recoversAfterTheServerRestarts() async throws {
        let cluster = TestDatabase.privateCluster()
        let configuration = try await cluster.start(logger: TestDatabase.logger)
        let pool = PostgresPool(configuration: configuration, options: .init(maxConnections: 3), logger: TestDatabase.logger)
        try await pool.query("CREATE TABLE survives (v int)")
        try await pool.query("INSERT INTO survives VALUES (1)")
        // A fast shutdown: the test cluster runs without fsync, so only a clean stop keeps the row.
        try await cluster.stop(mode: .fast)
        await #expect(throws: (any Error).self) { try await pool.query("SELECT 1") }
        _ = try await cluster.start(logger: TestDatabase.logger)
        let clock = ContinuousClock()
        let start = clock.now
        var value: Int?
        while value == nil, clock.now - start < .seconds(10) {
            value = try? await pool.query("SELECT v FROM survives").first?.decode(Int.self, at: 0)
        }
        #expect(value == 1)
        #expect(clock.now - start < .seconds(2))
        await pool.close()
        try await cluster.stop(mode: .immediate)
    }

    @Test func closedPoolRefusesCheckouts() async throws {
        let pool = PostgresPool(configuration: try await TestDatabase.server(), logger: TestDatabase.logger)
        try await pool.query("SELECT 1")
        await pool.close()
        let error = await #expect(throws: PostgresPoolError.self) { try await pool.query("SELECT 1") }
        #expect(error?.code == .closed)
    }
}

private actor Recorder {
    var values: [Int] = []
    func append(_ value: Int) { values.append(value) }
}

/// Polls `condition` until it holds, failing after five seconds.
func eventually(_ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(5)
    while try await !condition() {
        guard clock.now < deadline else {
            Issue.record("condition did not hold within five seconds")
            return
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}
