import ArgumentParser
import BillingStore

/// Settings of the projection runners.
struct ProjectorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Most events a projection applies in one transaction (env: PROJECTION_BATCH_SIZE; default 2000).", valueName: "n"))
    var projectionBatchSize: Int?

    @Option(
        help: ArgumentHelp(
            "Attempts before an event that fails to project is parked as a dead letter (env: PROJECTION_MAX_ATTEMPTS; default 5).", valueName: "n"))
    var projectionMaxAttempts: Int?

    @Option(
        help: ArgumentHelp("Longest wait for a NOTIFY before a projection polls the log (env: PROJECTION_POLL_MS; default 1000).", valueName: "ms"))
    var projectionPollMs: Int?

    /// Runner options from flags or the environment.
    var options: ProjectionOptions {
        get throws {
            ProjectionOptions(
                batchSize: try Setting.positive(projectionBatchSize, "PROJECTION_BATCH_SIZE", default: 2000),
                pollInterval: .milliseconds(try Setting.positive(projectionPollMs, "PROJECTION_POLL_MS", default: 1000)),
                maxAttempts: try Setting.positive(projectionMaxAttempts, "PROJECTION_MAX_ATTEMPTS", default: 5))
        }
    }
}
