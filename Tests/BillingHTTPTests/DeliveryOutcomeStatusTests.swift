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
}
