import Logging
import ServiceLifecycle

/// Why a connection could not be checked out of the pool.
public struct PostgresPoolError: Error, Sendable, CustomStringConvertible {
    /// An open set of pool failure codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// No connection became free within the checkout timeout.
        public static let checkoutTimeout = Code(rawValue: "checkout_timeout")
        /// The pool has been closed.
        public static let closed = Code(rawValue: "pool_closed")
        public var description: String { rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// A readable explanation with the pool's figures.
    public var message: String
    public var description: String { "PostgresPoolError(\(code)): \(message)" }
}

/// A bounded pool of connections.
///
/// Waiters are served first come, first served; a checkout that waits longer than
/// `checkoutTimeout` fails with ``PostgresPoolError/Code/checkoutTimeout``. Connections that broke,
/// or come back mid-transaction, are closed and replaced; idle ones are checked for a vanished
/// server before reuse, so the pool recovers by itself after a restart or a killed backend.
public actor PostgresPool: Service {
    /// Sizing and timeouts.
    public struct Options: Sendable {
        /// Most connections open at once.
        public var maxConnections: Int
        /// Longest wait for a free connection.
        public var checkoutTimeout: Duration

        /// Creates options; defaults are 10 connections and a 10 s checkout timeout.
        public init(maxConnections: Int = 10, checkoutTimeout: Duration = .seconds(10)) {
            self.maxConnections = max(1, maxConnections)
            self.checkoutTimeout = checkoutTimeout
        }
    }

    /// A snapshot of the pool's state.
    public struct Statistics: Sendable, Equatable {
        /// Connections open or being opened.
        public var open: Int
        /// Open connections not checked out.
        public var idle: Int
        /// Checkouts waiting for a connection.
        public var waiting: Int
        /// Connections checked out.
        public var inUse: Int { open - idle }
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<PostgresConnection, any Error>
    }

    /// Where and how connections are made.
    public nonisolated let configuration: PostgresConfiguration
    /// Sizing and timeouts.
    public nonisolated let options: Options
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    private var openCount = 0
    private var waiters: [Waiter] = []
    private var nextWaiterID: UInt64 = 0
    private var isClosed = false

    /// Creates a pool; connections are opened on demand.
    public init(configuration: PostgresConfiguration, options: Options = Options(), logger: Logger) {
        self.configuration = configuration
        self.options = options
        self.logger = logger
    }

    /// Lends a connection to `body` and takes it back afterwards, even when `body` throws.
    @discardableResult
    public func withConnection<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        let connection = try await checkout(verifying: true).connection
        let value: T
        do {
            value = try await body(connection)
        } catch {
            await checkin(connection, reusable: await connection.isReusable)
            throw error
        }
        await checkin(connection, reusable: await connection.isReusable)
        return value
    }

    /// Runs `body` on a pooled connection's own thread in one hop: the liveness check of a connection
    /// that sat idle, `body` and the check that it can be reused all run there together, so a
    /// request costs one thread switch each way rather than three. A connection found dead before
    /// `body` ran is replaced and `body` runs on another.
    public nonisolated func perform<T: Sendable>(_ body: @escaping @Sendable (isolated PostgresConnection) throws -> T) async throws -> T {
        while true {
            let (connection, satIdle) = try await checkout(verifying: false)
            let run = await connection.runLeased(checkingAlive: satIdle, body)
            await checkin(connection, reusable: run.reusable)
            if let result = run.result { return try result.get() }
            logger.debug("discarded a dead idle connection", metadata: ["pg_connection": "\(connection.id)"])
        }
    }

    /// Runs `body` in a transaction on a pooled connection.
    @discardableResult
    public func withTransaction<T>(
        isolation level: PostgresIsolationLevel = .readCommitted,
        readOnly: Bool = false,
        actorIsolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        try await withConnection { connection in
            try await connection.withTransaction(isolation: level, readOnly: readOnly, body)
        }
    }

    /// Runs one statement on a pooled connection.
    @discardableResult
    public nonisolated func query(_ query: PostgresQuery) async throws -> PostgresResult {
        try await perform { try $0.execute(query) }
    }

    /// The pool's current figures.
    public var statistics: Statistics {
        Statistics(open: openCount, idle: idle.count, waiting: waiters.count)
    }

    /// Keeps the pool open until graceful shutdown, then closes it.
    public nonisolated func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Closes idle connections and fails all waiters; connections in use close when returned.
    public func close() async {
        isClosed = true
        let failed = waiters
        waiters.removeAll()
        for waiter in failed {
            waiter.continuation.resume(throwing: PostgresPoolError(code: .closed, message: "the pool was closed"))
        }
        let closing = idle
        idle.removeAll()
        openCount -= closing.count
        for connection in closing { await connection.close() }
    }

    // MARK: - Checkout and checkin

    /// A connection, and whether it comes from the idle stack (so the server may have dropped it
    /// meanwhile). With `verifying`, idle connections are checked here, one hop each, and dead ones
    /// replaced; without, the caller checks them (``perform(_:)`` does so in the hop it makes anyway).
    private func checkout(verifying: Bool) async throws -> (connection: PostgresConnection, satIdle: Bool) {
        try Task.checkCancellation()
        guard !isClosed else { throw PostgresPoolError(code: .closed, message: "the pool is closed") }
        if waiters.isEmpty {
            while let connection = idle.popLast() {
                if !verifying { return (connection, true) }
                if await connection.checkAlive() { return (connection, false) }
                openCount -= 1
                logger.debug("discarding a dead idle connection", metadata: ["pg_connection": "\(connection.id)"])
                await connection.close()
            }
            if openCount < options.maxConnections {
                openCount += 1
                do {
                    return (try await PostgresConnection.connect(configuration, logger: logger), false)
                } catch {
                    openCount -= 1
                    throw error
                }
            }
        }
        // Handed over by a checkin that just found it reusable.
        return (try await waitForConnection(), false)
    }

    private func waitForConnection() async throws -> PostgresConnection {
        nextWaiterID += 1
        let id = nextWaiterID
        let timeout = options.checkoutTimeout
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.expireWaiter(id)
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append(Waiter(id: id, continuation: continuation))
                    // Capacity freed by a failed replacement goes to the queue, not to newcomers.
                    replaceForWaiter()
                }
            }
        } onCancel: {
            Task { await self.removeWaiter(id, error: CancellationError()) }
        }
    }

    private func expireWaiter(_ id: UInt64) {
        let message =
            "no connection became free within \(options.checkoutTimeout) "
            + "(\(openCount) of \(options.maxConnections) open, \(waiters.count) waiting)"
        removeWaiter(id, error: PostgresPoolError(code: .checkoutTimeout, message: message))
    }

    private func removeWaiter(_ id: UInt64, error: any Error) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: error)
    }

    private func checkin(_ connection: PostgresConnection, reusable: Bool) async {
        if reusable, !isClosed {
            if waiters.isEmpty {
                idle.append(connection)
            } else {
                waiters.removeFirst().continuation.resume(returning: connection)
            }
            return
        }
        openCount -= 1
        await connection.close()
        replaceForWaiter()
    }

    /// Opens a connection for the longest waiter after one was discarded.
    private func replaceForWaiter() {
        guard !waiters.isEmpty, !isClosed, openCount < options.maxConnections else { return }
        openCount += 1
        Task {
            do {
                let connection = try await PostgresConnection.connect(configuration, logger: logger)
                await handOver(connection)
            } catch {
                failReplacement(error)
            }
        }
    }

    private func handOver(_ connection: PostgresConnection) async {
        if isClosed {
            openCount -= 1
            await connection.close()
        } else if waiters.isEmpty {
            idle.append(connection)
        } else {
            waiters.removeFirst().continuation.resume(returning: connection)
        }
    }

    private func failReplacement(_ error: any Error) {
        openCount -= 1
        // The server is unreachable: tell the longest waiter now rather than at its timeout.
        if !waiters.isEmpty { waiters.removeFirst().continuation.resume(throwing: error) }
    }
}
