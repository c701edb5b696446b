import BillingCore
import Foundation
import Postgres

/// The SQL of the event log, the quarantine and the delivery log. Each function runs on a
/// connection the caller holds (usually inside a transaction), synchronously on its thread.
enum EventLog {
    /// Appends an event; nil when the log already holds it (a unique key or, for Flexprice, the
    /// redelivery window of an identical body matched: `billing.event_keys`).
    static func insert(
        _ event: NormalizedEvent, _ delivery: IncomingDelivery, on connection: isolated PostgresConnection
    ) throws -> (id: UUID, position: Int64)? {
        let result = try connection.execute(EventsTable.insert(event, delivery))
        return try result.first?.decode((UUID, Int64).self)
    }

    /// The stored event an insert collided with: same dedupe key, or (Flexprice) the same body of
    /// the same type whose message time lies within the redelivery window of this one's. Read from
    /// the key table, which keeps the keys of archived months too.
    static func existing(
        _ event: NormalizedEvent, _ delivery: IncomingDelivery, on connection: isolated PostgresConnection
    ) throws -> (id: UUID, position: Int64)? {
        var query: PostgresQuery =
            "SELECT event_id, position FROM billing.event_keys WHERE provider = \(event.provider.rawValue) AND dedupe_key = \(event.dedupeKey)"
        if event.provider == .flexprice {
            query.append(
                """
                 UNION ALL SELECT event_id, position FROM billing.event_keys
                WHERE provider = 'flexprice' AND environment = \(event.environment.rawValue) AND event_type = \(event.eventType)
                  AND body_sha256 = \(Data(delivery.bodySHA256))
                  AND billing.flexprice_redelivery_window(occurred_at) && billing.flexprice_redelivery_window(\(event.occurredAt))
                """)
        }
        query.append(" LIMIT 1")
        let result = try connection.execute(query)
        return try result.first?.decode((UUID, Int64).self)
    }

    /// Keeps a delivery in quarantine; a repeat of the same delivery counts an attempt instead.
    static func quarantine(_ reason: QuarantineReason, _ delivery: IncomingDelivery, on connection: isolated PostgresConnection) throws -> Int64 {
        let result = try connection.execute(
            """
            INSERT INTO billing.quarantine (provider, environment, environment_explicit, reason_code, reason, delivery_key,
                delivery_id, delivered_at, body_sha256, raw_body, signature_headers, secret_fingerprint, channel, source,
                received_at)
            VALUES (\(delivery.provider.rawValue), \(delivery.environment.rawValue), \(delivery.environmentIsExplicit),
                \(reason.code.rawValue), \(reason.message), \(delivery.deliveryKey), \(delivery.deliveryID), \(delivery.deliveryTimestamp),
                \(Data(delivery.bodySHA256)), \(Data(delivery.body)), \(PostgresJSONB(JSONText.object(delivery.signatureHeaders))),
                \(delivery.secretFingerprint), \(delivery.channel.rawValue), \(delivery.source), \(delivery.receivedAt))
            ON CONFLICT (provider, delivery_key) DO UPDATE
                SET attempts = quarantine.attempts + 1, last_attempt_at = now(),
                    reason_code = excluded.reason_code, reason = excluded.reason
            RETURNING id
            """)
        return try result.first?.decode(Int64.self, at: 0) ?? 0
    }

    /// Writes delivery-log rows in one statement.
    static func record(_ records: [DeliveryRecord], on connection: isolated PostgresConnection) throws {
        guard !records.isEmpty else { return }
        _ = try connection.execute(
            """
            INSERT INTO billing.deliveries (received_at, provider, environment, outcome, reason, body_bytes,
                delivery_id, event_id, quarantine_id)
            SELECT * FROM unnest(\(records.map(\.receivedAt))::timestamptz[],
                \(records.map(\.provider))::text[], \(records.map(\.environment))::text[],
                \(records.map(\.outcome.rawValue))::text[],
                \(records.map(\.reason))::text[], \(records.map(\.bodyBytes))::bigint[], \(records.map(\.deliveryID))::text[],
                \(records.map(\.eventID))::uuid[], \(records.map(\.quarantineID))::bigint[])
            """)
    }

    /// Deletes all but the newest `keep` delivery-log rows; returns how many went.
    static func pruneDeliveries(keep: Int, on connection: isolated PostgresConnection) throws -> Int {
        let result = try connection.execute(
            """
            DELETE FROM billing.deliveries
            WHERE id <= (SELECT max(id) FROM billing.deliveries) - \(keep)
            """)
        return result.affectedRows
    }
}
