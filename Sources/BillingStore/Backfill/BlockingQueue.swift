import Dispatch

/// A serial dispatch queue for blocking file I/O, so reads, writes and `fsync` never occupy a
/// thread of Swift's cooperative pool. The values it guards are only touched on it.
final class BlockingQueue: @unchecked Sendable {
    private let queue: DispatchQueue

    /// A queue named `label`.
    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the queue and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
