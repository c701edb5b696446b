import BillingCore
import Foundation
import Postgres

/// A quarantined delivery as operators see it.
public struct QuarantineEntry: Sendable, Equatable {
    /// The quarantine row id (what `quarantine retry --id` takes).
    public var id: Int64
    /// Provider of the delivery.
    public var provider: String
    /// Environment of the route it arrived on.
    public var environment: String
    /// Why it is quarantined (`unknown_type`…).
    public var reasonCode: String
    /// The reason in words, naming the field.
    public var reason: String
    /// Deliveries and retries of this same body so far.
    public var attempts: Int
    /// Size of the raw body.
    public var bodyBytes: Int
    /// The delivery id header, when there was one.
    public var deliveryID: String?
    /// First arrival.
    public var receivedAt: Date
    /// When a retry stored it or an operator dismissed it; nil while open.
    public var resolvedAt: Date?
    /// The event a retry stored (or found).
    public var eventID: UUID?
    /// When an operator dismissed it (then `resolvedAt` is the same time and there is no event).
    public var dismissedAt: Date?
    /// Who dismissed it: `user@host (database role R)`.
    public var dismissedBy: String?
    /// Why it was dismissed, as the operator wrote it.
    public var dismissedReason: String?
}

/// What a retry did with one quarantined delivery.
public enum QuarantineRetryResult: Sendable, Equatable {
    /// Normalized now and appended to the log.
    case stored(quarantineID: Int64, eventID: UUID)
    /// Normalized now; the log already held the event.
    case duplicate(quarantineID: Int64, eventID: UUID)
    /// Still not understood; the reason is updated.
    case stillQuarantined(quarantineID: Int64, reason: QuarantineReason)
}

/// Why a dismissal was refused.
public struct QuarantineDismissError: Error, Sendable, CustomStringConvertible {
    /// The kinds of refusal.
    public enum Code: String, Sendable {
        /// The reason was empty: a dismissal is kept for audit and must say why.
        case reasonRequired = "reason_required"
        /// Neither ids nor providers: dismissing everything at once is not offered.
        case noSelection = "no_selection"
    }

    /// What was wrong.
    public var code: Code
    /// The explanation.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// Lists quarantined deliveries and re-processes them with the current normalizers.
public struct QuarantineStore: Sendable {
    private let pool: PostgresPool

    /// Creates the store over `pool`.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Newest first; open ones only unless `includeResolved`.
    public func list(provider: Provider? = nil, includeResolved: Bool = false, limit: Int = 100) async throws -> [QuarantineEntry] {
        let rows = try await pool.query(
            """
            SELECT id, provider, environment, reason_code, reason, attempts, length(raw_body), delivery_id, received_at,
                   resolved_at, event_id, dismissed_at, dismissed_by, dismissed_reason
            FROM billing.quarantine
            WHERE (\(provider?.rawValue)::text IS NULL OR provider = \(provider?.rawValue))
              AND (\(includeResolved) OR resolved_at IS NULL)
            ORDER BY id DESC
            LIMIT \(limit)
            """)
        return try rows.map { row in
            QuarantineEntry(
                id: try row.decode(Int64.self, at: 0), provider: try row.decode(String.self, at: 1),
                environment: try row.decode(String.self, at: 2), reasonCode: try row.decode(String.self, at: 3),
                reason: try row.decode(String.self, at: 4), attempts: try row.decode(Int.self, at: 5),
                bodyBytes: try row.decode(Int.self, at: 6), deliveryID: try row.decode(String?.self, at: 7),
                receivedAt: try row.decode(Date.self, at: 8), resolvedAt: try row.decode(Date?.self, at: 9),
                eventID: try row.decode(UUID?.self, at: 10), dismissedAt: try row.decode(Date?.self, at: 11),
                dismissedBy: try row.decode(String?.self, at: 12), dismissedReason: try row.decode(String?.self, at: 13))
        }
    }

    /// Closes open entries without storing them (the given ids, or all open ones of `providers`,
    /// or both filters at once), keeping who, when and why: they leave the open count and are
    /// never retried. `by` names the operator; the database role is added. Returns the ids dismissed.
    public func dismiss(ids: [Int64]?, providers: [Provider]?, reason: String, by operatorName: String) async throws -> [Int64] {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw QuarantineDismissError(code: .reasonRequired, message: "a dismissal needs a reason") }
        guard ids != nil || providers != nil else {
            throw QuarantineDismissError(code: .noSelection, message: "name the entries to dismiss (ids or providers)")
        }
        return try await pool.query(
            """
            UPDATE billing.quarantine
            SET resolved_at = now(), dismissed_at = now(), dismissed_reason = \(trimmed),
                dismissed_by = \(operatorName)::text || ' (database role ' || session_user || ')'
            WHERE resolved_at IS NULL
              AND (\(ids.map { $0.map(Int.init) })::bigint[] IS NULL OR id = ANY(\(ids.map { $0.map(Int.init) })::bigint[]))
              AND (\(providers?.map(\.rawValue))::text[] IS NULL OR provider = ANY(\(providers?.map(\.rawValue))::text[]))
            RETURNING id
            """
        ).decodeColumn(Int64.self).sorted()
    }

    /// Re-normalizes open entries (the given ids, or all open ones of `provider`, or all), each in
    /// its own transaction; rows another retry holds are skipped. The body is not re-verified: its
    /// signature was checked when it arrived.
    public func retry(ids: [Int64]? = nil, provider: Provider? = nil) async throws -> [QuarantineRetryResult] {
        let candidates = try await pool.query(
            """
            SELECT id FROM billing.quarantine
            WHERE resolved_at IS NULL
              AND (\(ids.map { $0.map(Int.init) })::bigint[] IS NULL OR id = ANY(\(ids.map { $0.map(Int.init) })::bigint[]))
              AND (\(provider?.rawValue)::text IS NULL OR provider = \(provider?.rawValue))
            ORDER BY id
            """
        ).decodeColumn(Int64.self)
        var results: [QuarantineRetryResult] = []
        for id in candidates {
            let result = try await pool.perform { connection in try connection.transaction { try Self.retry(id, on: connection) } }
            if let result { results.append(result) }
        }
        return results
    }

    private static func retry(_ id: Int64, on connection: isolated PostgresConnection) throws -> QuarantineRetryResult? {
        guard
            let row = try connection.execute(
                """
                SELECT provider, environment, environment_explicit, raw_body, delivery_id, delivered_at,
                       signature_headers::text, secret_fingerprint, channel, source, received_at
                FROM billing.quarantine WHERE id = \(id) AND resolved_at IS NULL
                FOR UPDATE SKIP LOCKED
                """
            ).first
        else { return nil }
        let (provider, environment, explicit, body, deliveryID, deliveredAt, headers, fingerprint, channel, source, receivedAt) =
            try row.decode((String, String, Bool, Data, String?, Date?, String, String?, String, String?, Date).self)
        let delivery = IncomingDelivery(
            provider: Provider(rawValue: provider) ?? .flexprice, environment: ProviderEnvironment(rawValue: environment) ?? .live,
            environmentIsExplicit: explicit, body: Array(body), deliveryID: deliveryID, deliveryTimestamp: deliveredAt,
            signatureHeaders: Self.headers(headers), secretFingerprint: fingerprint,
            channel: IngestChannel(rawValue: channel) ?? .webhook, source: source, receivedAt: receivedAt)
        do {
            let event = try EventNormalizer.normalize(delivery)
            let outcome = try EventIngestor.store(.event(event, delivery), on: connection)
            let eventID: UUID
            let result: QuarantineRetryResult
            switch outcome {
            case let .stored(stored, _): (eventID, result) = (stored, .stored(quarantineID: id, eventID: stored))
            case let .duplicate(existing, _): (eventID, result) = (existing, .duplicate(quarantineID: id, eventID: existing))
            case .quarantined: return nil
            }
            try connection.execute(
                """
                UPDATE billing.quarantine
                SET resolved_at = now(), event_id = \(eventID), attempts = attempts + 1, last_attempt_at = now()
                WHERE id = \(id)
                """)
            return result
        } catch let reason as QuarantineReason {
            try connection.execute(
                """
                UPDATE billing.quarantine
                SET reason_code = \(reason.code.rawValue), reason = \(reason.message), attempts = attempts + 1,
                    last_attempt_at = now()
                WHERE id = \(id)
                """)
            return .stillQuarantined(quarantineID: id, reason: reason)
        }
    }

    /// The stored header map (a flat JSON object of strings).
    private static func headers(_ json: String) -> [String: String] {
        guard case let .object(members)? = try? JSONParser.parse(Array(json.utf8)) else { return [:] }
        var headers: [String: String] = [:]
        for (key, value) in members { if let text = value.stringValue { headers[key] = text } }
        return headers
    }
}
