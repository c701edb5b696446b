import ArgumentParser

/// `billing-events migrate`: applies pending migrations once, safe with many instances.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Apply pending database migrations (under an advisory lock; safe to run from many instances), then create the log partitions of this month and the next two."
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Only report applied and pending migrations; change nothing.")
    var status = false

    func run() async throws {
        try await reportingErrors { try await runMigrate(database: database, statusOnly: status) }
    }
}
