import ArgumentParser
import BillingCore
import BillingStore
import Foundation

/// `billing-events projections`: lag, dead letters and rebuilds of the read models.
struct Projections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show how far each projection has read the log, and rebuild read models from it.",
        discussion: """
            Projections: \(Projection.all.map { "\($0.name) (\($0.tables.map(\.rawValue).joined(separator: ", ")))" }.joined(separator: "; ")).
            """,
        subcommands: [Status.self, Rebuild.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per projection: checkpoint, events behind, seconds behind, dead letters and the active instance.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingErrors {
                try await withPool(database) { pool in
                    var table = TextTable(header: [
                        "PROJECTION", "CHECKPOINT", "APPLIED", "BEHIND", "SECONDS BEHIND", "DEAD LETTERS", "OWNER", "UPDATED", "REBUILT",
                    ])
                    for status in try await ProjectionStatus.load(on: pool) {
                        table.rows.append([
                            status.projection.name, status.checkpoint.description, "\(status.eventsApplied)", "\(status.eventsBehind)",
                            String(format: "%.1f", status.secondsBehind), "\(status.deadLetters)", status.owner ?? "-",
                            status.updatedAt.formatted(.iso8601), status.rebuiltAt?.formatted(.iso8601) ?? "-",
                        ])
                    }
                    print(table.render())
                }
            }
        }
    }

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay the whole log into fresh read-model tables and swap them in atomically.",
            discussion: """
                Runs beside a live service: readers see the old rows until the swap commits; the active projection runner pauses only during the swap and continues from the rebuilt checkpoint. Events that fail to fold are parked as dead letters (replacing the projection's earlier ones), so a rebuild after a fix re-processes them. When months of the log were archived (`billing-events archive`), the rebuild starts from the archive snapshot (the read models of every archived event) and replays only the events it does not hold. Exits with status 1 when any event was parked.
                """)

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The projection to rebuild (\(Projection.all.map(\.name).joined(separator: ", "))); default: all.")
        var name: String?

        @Option(help: "Events read per batch.")
        var batchSize = 5000

        func validate() throws {
            if let name, Projection.named(name) == nil {
                throw ValidationError("unknown projection \"\(name)\"; known: \(Projection.all.map(\.name).joined(separator: ", "))")
            }
            if batchSize < 1 { throw ValidationError("--batch-size must be positive") }
        }

        func run() async throws {
            var parked = 0
            try await reportingErrors {
                let logger = makeLogger()
                let configuration = try await database.resolve(logger: logger, sessionWork: "projections rebuild")
                for projection in name.flatMap(Projection.named).map({ [$0] }) ?? Projection.all {
                    let report = try await ProjectionRebuilder.rebuild(projection, configuration: configuration, batchSize: batchSize, logger: logger)
                    let seconds = Double(report.elapsed.components.seconds) + Double(report.elapsed.components.attoseconds) / 1e18
                    print(
                        "\(projection.name): \(report.applied) events applied, \(report.deadLetters) dead letters, checkpoint \(report.checkpoint), \(String(format: "%.1f", seconds)) s"
                    )
                    parked += report.deadLetters
                }
            }
            if parked > 0 { throw ExitCode.failure }
        }
    }
}
