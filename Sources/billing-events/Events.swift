import ArgumentParser
import BillingCore
import BillingStore
import Foundation

/// `billing-events events`: operations on the stored event log.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operations on the stored event log.", subcommands: [Verify.self])

    /// `billing-events events verify`: re-verifies stored events against the configured secrets.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-verify stored events against the configured signing secrets (exit 1 if any fails).",
            discussion: """
                Reads the exact stored bodies and the signature headers kept beside them, and checks them with the receiver's \
                verifier against <PROVIDER>[_<ENVIRONMENT>]_WEBHOOK_SECRETS as serve reads them. The signed timestamp is taken as it \
                was (stored deliveries are old; the signature still covers it). Events stored without signature headers (backfill \
                lines without headers, snapshots) are counted as unsigned. During a rotation, configure the old secret too.
                """)

        @OptionGroup var database: DatabaseOptions

        @Option(
            help: ArgumentHelp("Only events received at or after this time (ISO 8601, e.g. 2026-11-01 or 2026-11-01T00:00:00Z).", valueName: "time"))
        var since: String?

        @Option(help: "Only this provider.")
        var provider: Provider?

        @Option(help: "Most failed events listed.")
        var limit = 20

        func run() async throws {
            let secrets = try WebhookSecrets(environment: ProcessInfo.processInfo.environment)
            var start: Date?
            if let since {
                guard let date = EventTimestamp.parse(iso8601: since.utf8.count == 10 ? since + "T00:00:00Z" : since) else {
                    throw ValidationError("--since \(since) is not an ISO 8601 date (2026-11-01) or time (2026-11-01T00:00:00Z)")
                }
                start = date
            }
            var report = SignatureAudit.Report()
            try await reportingErrors {
                try await withPool(database) { pool in
                    report = try await SignatureAudit(pool: pool).run(secrets: secrets, since: start, provider: provider, listed: limit)
                }
            }
            print("verified \(report.verified), failed \(report.failed), unsigned \(report.unsigned)")
            for failure in report.failures {
                print("failed \(failure.eventID.uuidString.lowercased()): \(failure.reason)")
            }
            if report.failed > 0 { throw ExitCode.failure }
        }
    }
}
