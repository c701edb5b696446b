import ArgumentParser
import BillingCore
import BillingStore
import Foundation

/// `billing-events quarantine`: deliveries that were verified but not understood.
struct Quarantine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and re-process quarantined deliveries (verified, but not JSON, of an unknown type or missing fields).",
        subcommands: [List.self, Retry.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show quarantined deliveries, newest first.")

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Only this provider (flexprice, mintcash, mintfax).")
        var provider: Provider?

        @Flag(help: "Include entries a retry has already stored.")
        var all = false

        @Option(help: "Most entries shown.")
        var limit = 100

        func run() async throws {
            try await reportingErrors {
                try await withPool(database) { pool in
                    let entries = try await QuarantineStore(pool: pool).list(provider: provider, includeResolved: all, limit: limit)
                    guard !entries.isEmpty else { return print("quarantine is empty") }
                    var table = TextTable(header: ["ID", "RECEIVED", "PROVIDER", "ENV", "ATTEMPTS", "BYTES", "STATE", "REASON"])
                    for entry in entries {
                        table.rows.append([
                            "\(entry.id)", entry.receivedAt.formatted(.iso8601), entry.provider, entry.environment, "\(entry.attempts)",
                            "\(entry.bodyBytes)", entry.resolvedAt == nil ? "open" : "stored",
                            "\(entry.reasonCode): \(entry.reason)",
                        ])
                    }
                    print(table.render())
                }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Normalize open entries again with this build and store those that are now understood.",
            discussion: """
                Signatures are not checked again (they were verified on arrival). An entry that is still not understood stays open with its reason updated. Exits with status 1 when any entry stays open.
                """)

        @OptionGroup var database: DatabaseOptions

        @Option(name: .customLong("id"), help: "Only this entry (repeatable). Default: every open entry.")
        var ids: [Int64] = []

        @Option(help: "Only entries of this provider.")
        var provider: Provider?

        func run() async throws {
            var remaining = 0
            try await reportingErrors {
                try await withPool(database) { pool in
                    let results = try await QuarantineStore(pool: pool).retry(ids: ids.isEmpty ? nil : ids, provider: provider)
                    var stored = 0
                    var duplicates = 0
                    for result in results {
                        switch result {
                        case let .stored(id, event):
                            stored += 1
                            print("\(id): stored as event \(event.uuidString.lowercased())")
                        case let .duplicate(id, event):
                            duplicates += 1
                            print("\(id): already in the log as event \(event.uuidString.lowercased())")
                        case let .stillQuarantined(id, reason):
                            remaining += 1
                            print("\(id): still quarantined: \(reason)")
                        }
                    }
                    print("retried \(results.count): \(stored) stored, \(duplicates) duplicate, \(remaining) still quarantined")
                }
            }
            if remaining > 0 { throw ExitCode.failure }
        }
    }
}

extension Provider: ExpressibleByArgument {}
extension DeliveryOutcome: ExpressibleByArgument {}
