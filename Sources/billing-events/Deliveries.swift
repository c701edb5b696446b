import ArgumentParser
import BillingHTTP
import BillingStore
import Foundation
import HTTPTypes

/// `billing-events deliveries`: the bounded log of webhook requests.
struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show recent webhook requests, accepted or refused, newest first (why are a provider's deliveries failing?).",
        discussion: "The log keeps the newest DELIVERY_LOG_LIMIT rows (default 100000); secrets and signatures are never in it.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Only this provider path segment (flexprice, mintcash, mintfax, or an unknown name).")
    var provider: String?

    @Option(help: "Only this outcome: \(DeliveryOutcome.allCases.map(\.rawValue).joined(separator: ", ")).")
    var outcome: DeliveryOutcome?

    @Option(help: "Most rows shown.")
    var limit = 50

    func run() async throws {
        try await reportingErrors {
            try await withPool(database) { pool in
                let records = try await DeliveryLog(pool: pool).recent(provider: provider, outcome: outcome, limit: limit)
                guard !records.isEmpty else { return print("no deliveries logged") }
                var table = TextTable(header: ["RECEIVED", "PROVIDER", "ENV", "STATUS", "OUTCOME", "BYTES", "EVENT", "REASON"])
                for record in records {
                    table.rows.append([
                        record.receivedAt.formatted(.iso8601), record.provider, record.environment ?? "-", "\(record.outcome.httpStatus.code)",
                        record.outcome.rawValue, "\(record.bodyBytes)",
                        record.eventID?.uuidString.lowercased() ?? record.quarantineID.map { "quarantine \($0)" } ?? "-",
                        record.reason ?? "",
                    ])
                }
                print(table.render())
            }
        }
    }
}
