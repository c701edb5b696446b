import BillingCore
import Foundation
import Logging
import Postgres

extension EventIngestor {
    /// What one batch produced: an outcome per submission, and whether the log rows were written.
    struct BatchResult {
        var outcomes: [Result<IngestOutcome, IngestError>]
        var recordsWritten: Bool
    }

    /// Writes a batch in one transaction. When the database refuses the batch for a reason other
    /// than losing the connection, each submission is retried alone, so one bad row fails only
    /// its own request.
    static func write(
        _ items: [(IntakeResult, DeliveryRecord)], records: [DeliveryRecord], pool: PostgresPool, logger: Logger
    ) async -> BatchResult {
        // A fixed order of unique keys across concurrent batches avoids lock-order deadlocks.
        let ordered = items.enumerated().sorted { sortKey($0.element.0) < sortKey($1.element.0) }
        do {
            let outcomes = try await transaction(ordered.map(\.element), records: records, pool: pool)
            var result = [Result<IngestOutcome, IngestError>](repeating: .failure(unavailable("not written")), count: items.count)
            for (position, (index, _)) in ordered.enumerated() { result[index] = .success(outcomes[position]) }
            return BatchResult(outcomes: result, recordsWritten: true)
        } catch  where DatabaseHealth.isUnavailable(error) {
            let failure = unavailable("\(error)")
            return BatchResult(outcomes: items.map { _ in .failure(failure) }, recordsWritten: false)
        } catch {
            guard items.count > 1 || !records.isEmpty else {
                logger.error("delivery refused by the database", metadata: ["error": "\(error)"])
                return BatchResult(outcomes: [.failure(IngestError(code: .rejected, message: "\(error)"))], recordsWritten: false)
            }
            logger.warning("batch refused; retrying its deliveries one by one", metadata: ["error": "\(error)"])
            var outcomes: [Result<IngestOutcome, IngestError>] = []
            for item in items {
                outcomes.append(contentsOf: await write([item], records: [], pool: pool, logger: logger).outcomes)
            }
            let logged = await write([], records: records, pool: pool, logger: logger).recordsWritten
            return BatchResult(outcomes: outcomes, recordsWritten: logged)
        }
    }

    private static func transaction(
        _ items: [(IntakeResult, DeliveryRecord)], records: [DeliveryRecord], pool: PostgresPool
    ) async throws -> [IngestOutcome] {
        try await pool.perform { connection in
            // Retried whole when it deadlocks with a concurrent batch despite the sorted keys.
            try connection.transaction(retryingConflicts: 3) {
                var outcomes: [IngestOutcome] = []
                var rows = records
                for (submission, record) in items {
                    let outcome = try store(submission, on: connection)
                    outcomes.append(outcome)
                    rows.append(filled(record, with: outcome))
                }
                try EventLog.record(rows, on: connection)
                return outcomes
            }
        }
    }

    /// Appends one submission inside the caller's transaction.
    static func store(_ submission: IntakeResult, on connection: isolated PostgresConnection) throws -> IngestOutcome {
        switch submission {
        case let .event(event, delivery):
            if let row = try EventLog.insert(event, delivery, on: connection) { return .stored(eventID: row.id, position: row.position) }
            if let row = try EventLog.existing(event, delivery, on: connection) { return .duplicate(eventID: row.id, position: row.position) }
            throw IngestError(code: .rejected, message: "the insert conflicted but no stored event matches it")
        case let .quarantine(reason, delivery):
            return .quarantined(quarantineID: try EventLog.quarantine(reason, delivery, on: connection))
        }
    }

    /// The delivery-log row of a request whose outcome is now known.
    static func filled(_ record: DeliveryRecord, with outcome: IngestOutcome) -> DeliveryRecord {
        var record = record
        record.outcome = outcome.deliveryOutcome
        switch outcome {
        case let .stored(id, _), let .duplicate(id, _): record.eventID = id
        case let .quarantined(id): record.quarantineID = id
        }
        return record
    }

    private static func sortKey(_ submission: IntakeResult) -> String {
        switch submission {
        case let .event(event, _): "e/\(event.provider.rawValue)/\(event.dedupeKey)"
        case let .quarantine(_, delivery): "q/\(delivery.provider.rawValue)/\(delivery.deliveryKey)"
        }
    }

    private static func unavailable(_ message: String) -> IngestError {
        IngestError(code: .unavailable, message: message)
    }
}
