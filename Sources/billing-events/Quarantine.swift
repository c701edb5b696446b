import ArgumentParser
import BillingCore
import BillingStore
import Foundation

/// `billing-events quarantine`: deliveries that were verified but not understood.
struct Quarantine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, re-process or dismiss quarantined deliveries (verified, but not JSON, of an unknown type or missing fields).",
        subcommands: [List.self, Retry.self, Dismiss.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show quarantined deliveries, newest first.")

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Only this provider (flexprice, mintcash, mintfax).")
        var provider: Provider?

        @Flag(help: "Include entries a retry has stored or an operator dismissed (with who, when and why).")
        var all = false

        @Option(help: "Most entries shown.")
        var limit = 100

        func run() async throws {
            try await reportingErrors {
                try await withPool(database) { pool in
                    let entries = try await QuarantineStore(pool: pool).list(provider: provider, includeResolved: all, limit: limit)
                    guard !entries.isEmpty else { return print("quarantine is empty") }
                    var header = ["ID", "RECEIVED", "PROVIDER", "ENV", "ATTEMPTS", "BYTES", "STATE", "REASON"]
                    if all { header.append("DISMISSED") }
                    var table = TextTable(header: header)
                    for entry in entries {
                        let state = entry.dismissedAt != nil ? "dismissed" : entry.resolvedAt == nil ? "open" : "stored"
                        var row = [
                            "\(entry.id)", entry.receivedAt.formatted(.iso8601), entry.provider, entry.environment, "\(entry.attempts)",
                            "\(entry.bodyBytes)", state, "\(entry.reasonCode): \(entry.reason)",
                        ]
                        if all {
                            row.append(
                                entry.dismissedAt.map {
                                    "\($0.formatted(.iso8601)) by \(entry.dismissedBy ?? "?"): \(entry.dismissedReason ?? "")"
                                } ?? "")
                        }
                        table.rows.append(row)
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

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close open entries without storing them, with a reason kept for audit.",
            discussion: """
                For deliveries that will never be understood (a provider's test event, a type this service does not track). A dismissed entry leaves billing_events_quarantine_open and is never retried; `quarantine list --all` and analytics.quarantine show who dismissed it, when and why. Exits with status 1 when a named --id was not open.
                """)

        @OptionGroup var database: DatabaseOptions

        @Option(name: .customLong("id"), help: "This entry (repeatable).")
        var ids: [Int64] = []

        @Option(help: "Every open entry of this provider (repeatable); with --id, only those ids of these providers.")
        var provider: [Provider] = []

        @Option(help: "Why (required; kept with who and when).")
        var reason: String

        func validate() throws {
            if ids.isEmpty, provider.isEmpty { throw ValidationError("name the entries to dismiss: --id N or --provider P") }
            if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--reason must say why") }
        }

        func run() async throws {
            var missing: [Int64] = []
            try await reportingErrors {
                try await withPool(database) { pool in
                    let dismissed = try await QuarantineStore(pool: pool).dismiss(
                        ids: ids.isEmpty ? nil : ids, providers: provider.isEmpty ? nil : provider, reason: reason, by: Self.operatorName)
                    for id in dismissed { print("\(id): dismissed") }
                    missing = Array(Set(ids).subtracting(dismissed)).sorted()
                    for id in missing { print("\(id): not open (unknown, already stored or dismissed, or of another provider)") }
                    print("dismissed \(dismissed.count)")
                }
            }
            if !missing.isEmpty { throw ExitCode.failure }
        }

        /// `user@host` of whoever runs the command (the login behind sudo when there is one).
        static var operatorName: String {
            let environment = ProcessInfo.processInfo.environment
            let user =
                environment["SUDO_USER"] ?? getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? environment["USER"] ?? "unknown"
            return "\(user)@\(ProcessInfo.processInfo.hostName)"
        }
    }
}

extension Provider: ExpressibleByArgument {}
extension DeliveryOutcome: ExpressibleByArgument {}
