import BillingHTTP
import BillingStore
import Foundation
import HTTPTypes
import Postgres
import TestSupport
import Testing

/// The analysts' `analytics.deliveries.http_status` is derived in SQL from the outcome; it must
/// be the status the receiver answers for that outcome (`DeliveryOutcome.httpStatus`), for every
/// outcome, and the table must accept every outcome this build logs.
@Suite struct DeliveryOutcomeStatusTests {
    @Test func theViewDerivesTheStatusTheReceiverAnswers() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await PostgresPool.withPool(configuration, logger: TestDatabase.logger) { pool in
                try await MigrationRunner(pool: pool, migrations: try Migration.bundled(), logger: TestDatabase.logger).migrate()
                let ingestor = EventIngestor(pool: pool, logger: TestDatabase.logger)
                for outcome in DeliveryOutcome.allCases {
                    await ingestor.log(
                        DeliveryRecord(receivedAt: Date(), provider: "mintcash", environment: "live", outcome: outcome, bodyBytes: 0))
                }
                await ingestor.flush()
                let rows = try await pool.query("SELECT outcome, http_status FROM analytics.deliveries").decode((String, Int?).self)
                #expect(rows.count == DeliveryOutcome.allCases.count, "every outcome was accepted by the table")
                for (outcome, status) in rows {
                    let swift = try #require(DeliveryOutcome(rawValue: outcome))
                    #expect(status == swift.httpStatus.code, "\(outcome)")
                }
                let logged = try await DeliveryLog(pool: pool).recent(limit: 100).map(\.outcome)
                #expect(Set(logged) == Set(DeliveryOutcome.allCases))
            }
        }
    }

    /// A database logged by the previous build (500s and 501s with their old outcomes) migrates:
    /// the rows move to the outcomes that now carry those statuses, and the previous build's
    /// insert (with `http_status`) still works during a rolling deploy.
    @Test func migration0010MovesOldRowsAndKeepsThePreviousBuildsInsertWorking() async throws {
        try await TestDatabase.withFreshDatabase { configuration in
            try await PostgresPool.withPool(configuration, logger: TestDatabase.logger) { pool in
                let all = try Migration.bundled()
                try await MigrationRunner(pool: pool, migrations: all.filter { $0.version < 10 }, logger: TestDatabase.logger).migrate()
                try await pool.query(
                    """
                    INSERT INTO billing.deliveries (received_at, provider, outcome, http_status, body_bytes)
                    VALUES (now(), 'mintcash', 'unavailable', 500, 1), (now(), 'mintcash', 'refused', 500, 1),
                           (now(), 'mintcash', 'unsupported_media_type', 501, 1), (now(), 'mintcash', 'unsupported_media_type', 415, 1),
                           (now(), 'mintcash', 'unavailable', 503, 1), (now(), 'mintcash', 'refused', 401, 1)
                    """)
                try await MigrationRunner(pool: pool, migrations: all, logger: TestDatabase.logger).migrate()
                let rows = try await pool.query("SELECT outcome, http_status FROM analytics.deliveries ORDER BY delivery_log_id")
                    .decode((String, Int?).self)
                #expect(rows.map(\.0) == ["failed", "failed", "unsupported_coding", "unsupported_media_type", "unavailable", "refused"])
                #expect(rows.map(\.1) == [500, 500, 501, 415, 503, 401])
                try await pool.query(
                    "INSERT INTO billing.deliveries (received_at, provider, outcome, http_status, body_bytes) VALUES (now(), 'x', 'stored', 200, 1)")
            }
        }
    }
}
