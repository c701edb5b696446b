import ArgumentParser
import BillingStore

/// Settings of the projection runners.
struct ProjectorOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Most events a projection applies in one transaction (env: PROJECTION_BATCH_SIZE; default \(ProjectionOptions().batchSize)).",
            valueName: "n"))
    var projectionBatchSize: Int?

    @Option(
        help: ArgumentHelp(
            "Attempts before an event that fails to project is parked as a dead letter (env: PROJECTION_MAX_ATTEMPTS; default \(ProjectionOptions().maxAttempts)).",
            valueName: "n"))
    var projectionMaxAttempts: Int?

    @Option(
        help: ArgumentHelp(
            "Longest wait for a NOTIFY before a projection polls the log (env: PROJECTION_POLL_MS; default \(ProjectorOptions.milliseconds(ProjectionOptions().pollInterval))).",
            valueName: "ms"))
    var projectionPollMs: Int?

    /// `duration` in whole milliseconds (the unit of `PROJECTION_POLL_MS`).
    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Runner options from flags or the environment; the defaults are `ProjectionOptions()`'s.
    var options: ProjectionOptions {
        get throws {
            let defaults = ProjectionOptions()
            return ProjectionOptions(
                batchSize: try Setting.positive(projectionBatchSize, "PROJECTION_BATCH_SIZE", default: defaults.batchSize),
                pollInterval: .milliseconds(
                    try Setting.positive(projectionPollMs, "PROJECTION_POLL_MS", default: Self.milliseconds(defaults.pollInterval))),
                maxAttempts: try Setting.positive(projectionMaxAttempts, "PROJECTION_MAX_ATTEMPTS", default: defaults.maxAttempts))
        }
    }
}
