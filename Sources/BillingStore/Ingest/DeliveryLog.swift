import Foundation
import Postgres

/// Reads the bounded delivery log for operators (`billing-events deliveries`).
public struct DeliveryLog: Sendable {
    private let pool: PostgresPool

    /// Creates the reader over `pool`.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Newest first, optionally for one provider and outcome.
    public func recent(provider: String? = nil, outcome: DeliveryOutcome? = nil, limit: Int = 50) async throws -> [DeliveryRecord] {
        let rows = try await pool.query(
            """
            SELECT received_at, provider, environment, outcome, reason, body_bytes, delivery_id, event_id,
                   quarantine_id
            FROM billing.deliveries
            WHERE (\(provider)::text IS NULL OR provider = \(provider))
              AND (\(outcome?.rawValue)::text IS NULL OR outcome = \(outcome?.rawValue))
            ORDER BY id DESC
            LIMIT \(limit)
            """)
        return try rows.map { row in
            let (received, provider, environment, outcomeText, reason, size, deliveryID, eventID, quarantineID) =
                try row.decode((Date, String, String?, String, String?, Int, String?, UUID?, Int64?).self)
            guard let outcome = DeliveryOutcome(rawValue: outcomeText) else {
                throw UnknownStoredValue(table: "deliveries", column: "outcome", value: outcomeText)
            }
            return DeliveryRecord(
                receivedAt: received, provider: provider, environment: environment, outcome: outcome, reason: reason, bodyBytes: size,
                deliveryID: deliveryID, eventID: eventID, quarantineID: quarantineID)
        }
    }
}
