/// `work`'s result, or nil when it has not finished within `timeout` (it is then cancelled). For
/// probes that must answer even when the database hangs: readiness and the `/metrics` readings.
func within<T: Sendable>(_ timeout: Duration, _ work: @escaping @Sendable () async -> T?) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await work() }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
