import BillingCore
import Synchronization

/// The cursor signer, made from the key in the database the first time a list is served (so
/// `serve --no-migrate` can start before migration 0004 has created the key), then kept.
public final class CursorSigning: Sendable {
    private let loadKey: @Sendable () async throws -> [UInt8]
    private let signer = Mutex<PageCursorSigner?>(nil)

    /// Creates it around a key loader (normally `QueryStore.cursorSigningKey`).
    public init(loadKey: @escaping @Sendable () async throws -> [UInt8]) {
        self.loadKey = loadKey
    }

    /// Creates it with a fixed key (tests).
    public convenience init(key: [UInt8]) {
        self.init(loadKey: { key })
    }

    /// The signer.
    public func current() async throws -> PageCursorSigner {
        if let signer = signer.withLock({ $0 }) { return signer }
        let loaded = PageCursorSigner(key: try await loadKey())
        signer.withLock { $0 = loaded }
        return loaded
    }
}
