import CLibPQ
import Foundation
import Logging
import Synchronization

/// One libpq connection, confined to its own serial executor.
///
/// Every libpq call runs on the connection's private dispatch queue, never on Swift's cooperative
/// pool, so a slow query blocks only this connection. Results are decoded into `Sendable` values
/// before they leave the actor. Cancelling the calling task sends `PQcancel` to the server.
public actor PostgresConnection {
    private static let counter = Atomic<Int>(0)

    private let executor: ConnectionExecutor
    /// The actor runs on its own queue, not on the cooperative pool.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// A process-unique number, for logs.
    public nonisolated let id: Int
    /// Where server notices and connection events are logged.
    public nonisolated let logger: Logger

    /// The `PGconn*`; nil once closed. Only touched on `executor`.
    var handle: OpaquePointer?
    nonisolated let cancelHandle = CancelHandle()
    private let noticeSink: NoticeSink
    /// True while a COPY is open; the connection cannot be reused until it ends.
    var inCopy = false
    /// Server-side prepared statements of this session (see `PostgresConnection+Statements.swift`).
    var statements: StatementCache
    /// The server refused a write as read-only (SQLSTATE 25006): it is, or has become, a standby,
    /// so the connection must not go back to a pool that writes; a new one finds the primary.
    private var foundReadOnly = false

    private init(logger: Logger, statementCacheCapacity capacity: Int) {
        let id = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        self.id = id
        var logger = logger
        logger[metadataKey: "pg_connection"] = "\(id)"
        self.logger = logger
        self.executor = ConnectionExecutor(name: "pg-conn-\(id)")
        self.noticeSink = NoticeSink(logger: logger)
        self.statements = StatementCache(capacity: capacity)
    }

    isolated deinit {
        closeNow()
        executor.shutdown()
    }

    /// Opens a connection and pins the session to UTF-8, UTC and ISO dates.
    public static func connect(_ configuration: PostgresConfiguration, logger: Logger) async throws -> PostgresConnection {
        let connection = PostgresConnection(logger: logger, statementCacheCapacity: configuration.statementCacheCapacity)
        try await connection.open(configuration)
        return connection
    }

    private func open(_ configuration: PostgresConfiguration) throws {
        var keywords = ["dbname", "client_encoding", "fallback_application_name"]
        var values = [configuration.connectionString, "UTF8", configuration.applicationName]
        if !configuration.sets("connect_timeout") {
            keywords.append("connect_timeout")
            values.append(String(configuration.connectTimeout))
        }
        let keywordPointers = keywords.map { strdup($0) } + [nil]
        let valuePointers = values.map { strdup($0) } + [nil]
        defer {
            for pointer in keywordPointers { free(pointer) }
            for pointer in valuePointers { free(pointer) }
        }
        let connection = keywordPointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordBuffer in
            valuePointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { valueBuffer in
                PQconnectdbParams(keywordBuffer.baseAddress, valueBuffer.baseAddress, 1)
            }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            throw PostgresError(code: .unableToConnect, message: message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        handle = connection
        PQsetNoticeReceiver(connection, noticeReceiver, Unmanaged.passUnretained(noticeSink).toOpaque())
        cancelHandle.set(PQgetCancel(connection))
        // Pinned per session, so text output parses the same whatever the server's defaults are.
        _ = try simpleQuery(
            unsafeSQL: "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; "
                + "SET bytea_output = 'hex'; SET extra_float_digits = 3")
        logger.debug("connected", metadata: ["backend_pid": "\(PQbackendPID(connection))"])
    }

    /// Runs one statement with bound parameters and returns all its rows.
    @discardableResult
    public nonisolated func query(_ query: PostgresQuery) async throws -> PostgresResult {
        try await withCancellation { try await self.execute(query) }
    }

    /// Runs `body` on the connection's own thread, where ``execute(_:)`` and ``simpleQuery(unsafeSQL:)``
    /// are plain synchronous calls: a batch of statements costs one thread hop in and one out, not
    /// two per statement. Cancelling the task cancels whichever statement is running.
    public nonisolated func perform<T: Sendable>(_ body: @escaping @Sendable (isolated PostgresConnection) throws -> T) async throws -> T {
        try await withCancellation { try await self.runIsolated(body) }
    }

    /// What a pooled run left: `body`'s result (nil when the connection was found dead before it
    /// ran) and whether the connection can go back to the pool.
    struct LeasedRun<T: Sendable>: Sendable {
        var result: Result<T, any Error>?
        var reusable: Bool
    }

    /// ``perform(_:)`` for the pool: the liveness check, `body` and the reusability check in one hop.
    nonisolated func runLeased<T: Sendable>(
        checkingAlive: Bool, _ body: @escaping @Sendable (isolated PostgresConnection) throws -> T
    ) async -> LeasedRun<T> {
        do {
            return try await withCancellation {
                try await self.runIsolated { connection in
                    if checkingAlive, !connection.checkAlive() { return LeasedRun(result: nil, reusable: false) }
                    let result = Result { try body(connection) }
                    return LeasedRun(result: result, reusable: connection.isReusable)
                }
            }
        } catch {
            // Cancelled before it started: nothing ran, so the connection is as it was.
            return LeasedRun(result: .failure(error), reusable: await isReusable)
        }
    }

    /// Runs `body` on the connection's thread without the cancellation checks of ``perform(_:)``:
    /// for work that must happen even in a cancelled task (a transaction's rollback).
    func runIsolated<T: Sendable>(_ body: @Sendable (isolated PostgresConnection) throws -> T) throws -> T {
        try body(self)
    }

    /// Runs a script of one or more statements without parameters (simple query protocol).
    /// Only for SQL the program owns, such as migration files.
    @discardableResult
    public func simpleQuery(unsafeSQL sql: String) throws -> PostgresResult {
        let handle = try requireHandle()
        guard let result = PQexec(handle, sql) else { throw failure(query: sql) }
        defer { PQclear(result) }
        return try decode(result, query: sql)
    }

    /// The server process id of this session (`pg_backend_pid()`), for diagnostics and tests.
    public var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// True while the session is healthy, idle, outside any transaction and not found read-only:
    /// safe to hand to another user.
    public var isReusable: Bool {
        guard let handle, !inCopy, !foundReadOnly else { return false }
        return PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// Cheap liveness check without a round trip: reads whatever the server sent while the
    /// connection sat idle (a terminated backend's goodbye, end of file after a restart).
    public func checkAlive() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        // A terminated backend sends its FATAL message (libpq passes it to the notice receiver) and
        // then closes the socket; libpq notices the end of file only on a later read, so read until
        // nothing is pending.
        for _ in 0..<4 {
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { break }
            if PQconsumeInput(handle) == 0 { return false }
            while let notification = PQnotifies(handle) { PQfreemem(notification) }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Closes the connection. Further calls fail with `connectionDoesNotExist`.
    public func close() {
        closeNow()
    }

    private func closeNow() {
        cancelHandle.free()
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
    }

    // MARK: - Internals shared by the extensions

    func requireHandle() throws -> OpaquePointer {
        guard let handle else {
            throw PostgresError(code: .connectionDoesNotExist, message: "the connection is closed")
        }
        return handle
    }

    func decode(_ result: OpaquePointer, query: String?) throws -> PostgresResult {
        let handle = try requireHandle()
        do {
            return try LibPQ.decode(result, connection: handle, query: query)
        } catch let error as PostgresError {
            throw noteFailure(error)
        }
    }

    func failure(query: String?) -> PostgresError {
        noteFailure(LibPQ.connectionError(handle, query: query))
    }

    /// Closes a connection whose server side is gone, so nobody reuses it; marks one whose server
    /// turned out to be read-only as not reusable.
    private func noteFailure(_ error: PostgresError) -> PostgresError {
        if error.code == .readOnlySQLTransaction { foundReadOnly = true }
        if let handle, error.isConnectionLoss || PQstatus(handle) != CONNECTION_OK {
            logger.debug("connection lost", metadata: ["sqlstate": "\(error.code)"])
            closeNow()
        }
        return error
    }

    /// Runs `operation` with task cancellation mapped to `PQcancel`. The operation must hop onto
    /// the connection itself (`await self.…`): a closure handed to `withTaskCancellationHandler`
    /// runs on the cooperative pool, where blocking libpq calls must never run.
    ///
    /// A cancel is sent only while this operation is the connection's latest: once it has ended (and
    /// the connection may serve someone else), a late cancel request is dropped.
    nonisolated func withCancellation<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        try Task.checkCancellation()
        let ticket = cancelHandle.ticket()
        defer { cancelHandle.finish() }
        return try await withTaskCancellationHandler(operation: operation) { [cancelHandle] in
            cancelHandle.requestCancel(ticket)
        }
    }
}

/// The `PGcancel*` of a connection, usable from any thread (libpq documents `PQcancel` as thread-safe),
/// with a generation that ends each operation so a late cancel cannot hit the next one.
final class CancelHandle: Sendable {
    private struct State: @unchecked Sendable {
        // Guarded by the mutex below; PQcancel and PQfreeCancel never overlap.
        var pointer: OpaquePointer?
        var generation: UInt64 = 0
    }
    private let state = Mutex(State(pointer: nil))

    func set(_ value: OpaquePointer?) {
        state.withLock { $0.pointer = value }
    }

    func free() {
        state.withLock {
            if let value = $0.pointer { PQfreeCancel(value) }
            $0.pointer = nil
        }
    }

    /// The generation an operation starting now runs in.
    func ticket() -> UInt64 { state.withLock { $0.generation } }

    /// Ends the current operation: cancels requested for it from now on are dropped.
    func finish() { state.withLock { $0.generation &+= 1 } }

    /// Asks the server to cancel the running statement, from a thread of its own because it connects;
    /// nothing is sent once the operation `ticket` has finished.
    func requestCancel(_ ticket: UInt64) {
        Thread.detachNewThread {
            self.state.withLock {
                guard $0.generation == ticket, let value = $0.pointer else { return }
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(value, &buffer, Int32(buffer.count))
            }
        }
    }
}

/// Receives libpq notices for one connection and forwards them to its logger instead of stderr.
final class NoticeSink: Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func log(_ result: OpaquePointer) {
        func field(_ code: Int32) -> String { PQresultErrorField(result, code).map { String(cString: $0) } ?? "" }
        let severity = field(CLIBPQ_DIAG_SEVERITY)
        // NOTICE is routine (`IF NOT EXISTS … skipping` on every migration check): debug, not info.
        let level: Logger.Level = severity == "WARNING" ? .warning : .debug
        logger.log(
            level: level, "postgres \(severity.lowercased()): \(field(CLIBPQ_DIAG_MESSAGE_PRIMARY))",
            metadata: ["sqlstate": "\(field(CLIBPQ_DIAG_SQLSTATE))"])
    }
}

private let noticeReceiver: PQnoticeReceiver = { context, result in
    guard let context, let result else { return }
    Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue().log(result)
}
