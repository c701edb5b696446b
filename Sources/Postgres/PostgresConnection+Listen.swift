import CLibPQ
import Foundation

/// One `NOTIFY` received on a listening connection.
public struct PostgresNotification: Sendable, Equatable {
    /// The channel it was sent on.
    public var channel: String
    /// The payload (empty when none was given).
    public var payload: String
    /// The sending backend's process id.
    public var backendPID: Int32
}

extension PostgresConnection {
    /// Subscribes this session to `channel`. Use a connection of its own for listening.
    public func listen(_ channel: String) throws {
        try simpleQuery(unsafeSQL: "LISTEN " + PostgresQuery.quoteIdentifier(channel))
    }

    /// Unsubscribes from `channel`.
    public func unlisten(_ channel: String) throws {
        try simpleQuery(unsafeSQL: "UNLISTEN " + PostgresQuery.quoteIdentifier(channel))
    }

    /// Sends a notification through `pg_notify`, so both values are bound parameters.
    public func notify(_ channel: String, payload: String = "") async throws {
        try await query("SELECT pg_notify(\(channel), \(payload))")
    }

    /// The notifications of the channels this connection listens to, as they arrive.
    /// The sequence ends with an error if the connection is lost, and stops when the task is cancelled.
    public nonisolated var notifications: PostgresNotifications { PostgresNotifications(connection: self) }

    /// Waits up to `timeout` for the next notification. Blocks only this connection's queue.
    public func nextNotification(timeout: Duration) throws -> PostgresNotification? {
        let handle = try requireHandle()
        if let pending = takeNotification(handle) { return pending }
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready > 0 {
            guard PQconsumeInput(handle) == 1 else { throw failure(query: nil) }
        } else if ready < 0, errno != EINTR {
            throw PostgresError(code: .connectionFailure, message: "poll failed: \(String(cString: strerror(errno)))")
        }
        return takeNotification(handle)
    }

    private func takeNotification(_ handle: OpaquePointer) -> PostgresNotification? {
        guard let notify = PQnotifies(handle) else { return nil }
        defer { PQfreemem(notify) }
        return PostgresNotification(
            channel: String(cString: notify.pointee.relname),
            payload: notify.pointee.extra.map { String(cString: $0) } ?? "",
            backendPID: notify.pointee.be_pid)
    }
}

/// An async sequence of notifications on a listening connection.
public struct PostgresNotifications: AsyncSequence, Sendable {
    let connection: PostgresConnection
    /// How long one wait blocks the connection's queue; also the latency of noticing cancellation.
    static let slice = Duration.milliseconds(200)

    /// Iterates notifications.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: PostgresConnection

        /// The next notification; nil once the task is cancelled.
        public mutating func next() async throws -> PostgresNotification? {
            while !Task.isCancelled {
                if let notification = try await connection.nextNotification(timeout: PostgresNotifications.slice) {
                    return notification
                }
            }
            return nil
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(connection: connection) }
}
