import BillingCore
import Foundation
import Postgres

/// Re-verifies stored events against the configured secrets (`billing-events events verify`):
/// the exact stored bytes and the signature headers kept beside them, through the same verifier as
/// the receiver, with the signed timestamp taken as it was (a stored delivery is old by design, so
/// the replay tolerance does not apply; the signature still covers the timestamp).
public struct SignatureAudit: Sendable {
    /// What re-verification found.
    public struct Report: Sendable, Equatable {
        /// Events whose signature matches a configured secret.
        public var verified = 0
        /// Events whose signature matches none (tampered, or signed by a secret no longer configured).
        public var failed = 0
        /// Events stored without signature headers (backfill lines without them, snapshots).
        public var unsigned = 0
        /// The first failed events: id and the verifier's reason.
        public var failures: [(eventID: UUID, reason: String)] = []

        /// Creates an empty report.
        public init() {}

        public static func == (lhs: Report, rhs: Report) -> Bool {
            (lhs.verified, lhs.failed, lhs.unsigned) == (rhs.verified, rhs.failed, rhs.unsigned)
                && lhs.failures.map(\.eventID) == rhs.failures.map(\.eventID)
        }
    }

    private let pool: PostgresPool
    private let pageSize: Int

    /// Creates an audit over `pool`, reading `pageSize` events per round trip.
    public init(pool: PostgresPool, pageSize: Int = 500) {
        self.pool = pool
        self.pageSize = max(1, pageSize)
    }

    /// Verifies every event received at or after `since` (all when nil), of `provider` when given,
    /// page by page in log order; lists at most `listed` failures.
    public func run(secrets: WebhookSecrets, since: Date?, provider: Provider?, listed: Int = 20) async throws -> Report {
        let verifier = WebhookVerifier(tolerance: .infinity)
        var report = Report()
        var after: Int64 = 0
        while true {
            let rows = try await pool.query(
                """
                SELECT position, id, provider, environment, signature_headers::text, raw_body FROM billing.events
                WHERE position > \(after) AND (\(since)::timestamptz IS NULL OR received_at >= \(since))
                  AND (\(provider?.rawValue)::text IS NULL OR provider = \(provider?.rawValue))
                ORDER BY position LIMIT \(pageSize)
                """
            ).rows
            for row in rows {
                let (position, id, providerName, environmentName, headersText, body) = try row.decode(
                    (Int64, UUID, String, String, String, Data).self)
                after = position
                let headers = Self.headers(headersText)
                guard !headers.isEmpty, let provider = Provider(rawValue: providerName),
                    let environment = ProviderEnvironment(rawValue: environmentName)
                else {
                    report.unsigned += 1
                    continue
                }
                do {
                    _ = try verifier.verify(
                        provider: provider, headers: headers, body: Array(body),
                        secrets: secrets.secrets(for: provider, environment: environment))
                    report.verified += 1
                } catch {
                    report.failed += 1
                    if report.failures.count < listed { report.failures.append((id, error.description)) }
                }
            }
            if rows.count < pageSize { return report }
        }
    }

    /// The stored header object as lower-cased name → text (anything else is ignored).
    static func headers(_ json: String) -> [String: String] {
        guard case let .object(members)? = try? JSONParser.parse(Array(json.utf8)) else { return [:] }
        var headers: [String: String] = [:]
        for (name, value) in members {
            if case let .string(text) = value { headers[name.lowercased()] = text }
        }
        return headers
    }
}
