import Logging
import Synchronization

/// A log handler that keeps every message, so tests can assert on what was logged.
public struct CapturingLogHandler: LogHandler {
    /// The messages logged so far, shared by all copies of this handler.
    public final class Store: Sendable {
        private let entries = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])
        /// Creates an empty store.
        public init() {}
        /// The messages logged so far.
        public var messages: [String] { entries.withLock { $0.map(\.1) } }
        /// Every entry with level and metadata.
        public var all: [(Logger.Level, String, Logger.Metadata)] { entries.withLock { $0 } }
        func append(_ entry: (Logger.Level, String, Logger.Metadata)) { entries.withLock { $0.append(entry) } }
    }

    /// Where messages go.
    public let store: Store
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    /// Creates a handler writing into `store`.
    public init(store: Store) { self.store = store }

    /// A logger that writes into a new store, and the store.
    public static func logger(level: Logger.Level = .trace) -> (Logger, Store) {
        let store = Store()
        var logger = Logger(label: "capture") { _ in CapturingLogHandler(store: store) }
        logger.logLevel = level
        return (logger, store)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        store.append((event.level, event.message.description, metadata.merging(event.metadata ?? [:]) { $1 }))
    }
}
