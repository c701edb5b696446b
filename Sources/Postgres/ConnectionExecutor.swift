import Foundation

/// A serial executor backed by one dedicated thread, so a connection's blocking libpq calls never
/// occupy Swift's cooperative pool.
///
/// A thread of its own rather than a dispatch queue: on Linux, libdispatch's worker threads and the
/// cooperative pool share one pool sized to the CPU count, so blocking queues starve every task
/// (measured here: four parallel one-second queries took two seconds and froze a heartbeat).
final class ConnectionExecutor: SerialExecutor, @unchecked Sendable {
    // `jobs` and `stopping` are guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    /// Starts the thread; libpq needs little stack, other blocking work (parsers) may need more.
    init(name: String, stackSize: Int = 512 * 1024) {
        let thread = Thread { [self] in runLoop() }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread end once the jobs already queued have run.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty, !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
