import Foundation

/// The one way to run blocking work that is not a connection's (file reads and writes, `fsync`,
/// spawning programs) without occupying a thread of Swift's cooperative pool: on a dedicated
/// thread, as ``PostgresConnection`` runs libpq (see `ConnectionExecutor` for why not a
/// dispatch queue). Work submitted to one executor runs in order, one piece at a time, so values
/// only ever touched inside ``run(_:)`` need no other lock.
public actor BlockingExecutor {
    private let executor: ConnectionExecutor

    /// An executor whose thread is named `name` (seen in debuggers and `top -H`); the thread ends
    /// when the executor is released.
    public init(name: String) {
        executor = ConnectionExecutor(name: name, stackSize: 8 << 20)
    }

    deinit { executor.shutdown() }

    /// Runs on the dedicated thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Runs `body` on the executor's thread and returns its result.
    public func run<T: Sendable>(_ body: @Sendable () throws -> T) throws -> T {
        try body()
    }

    /// Runs `work` on a thread of its own, for rare one-off work (preparing a cluster, spawning
    /// a program) that needs no order with anything else.
    public static func detached<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}
