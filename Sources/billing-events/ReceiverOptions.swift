import ArgumentParser
import BillingCore
import BillingService
import BillingStore
import Foundation

/// Settings of the webhook receiver.
struct ReceiverOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Largest accepted webhook body in bytes (env: WEBHOOK_MAX_BODY_BYTES; default \(ServeSettings.Defaults.maximumBodyBytes)).",
            valueName: "bytes"))
    var maxBodyBytes: Int?

    @Option(
        help: ArgumentHelp(
            "Newest delivery-log rows kept (env: DELIVERY_LOG_LIMIT; default \(EventIngestor.Options().deliveryLogLimit)).", valueName: "rows"))
    var deliveryLogLimit: Int?

    @Option(
        help: ArgumentHelp(
            "Most webhook transactions committing at once; each carries every delivery that arrived meanwhile (env: WEBHOOK_COMMIT_CONCURRENCY; default \(EventIngestor.Options().maximumConcurrentBatches)).",
            valueName: "n"))
    var commitConcurrency: Int?

    /// The body limit from the flag or the environment.
    var maximumBodyBytes: Int {
        get throws { try Setting.positive(maxBodyBytes, "WEBHOOK_MAX_BODY_BYTES", default: ServeSettings.Defaults.maximumBodyBytes) }
    }

    /// Ingestor tuning from flags or the environment.
    var ingestorOptions: EventIngestor.Options {
        get throws {
            let defaults = EventIngestor.Options()
            return EventIngestor.Options(
                maximumConcurrentBatches: try Setting.positive(
                    commitConcurrency, "WEBHOOK_COMMIT_CONCURRENCY", default: defaults.maximumConcurrentBatches),
                deliveryLogLimit: try Setting.positive(deliveryLogLimit, "DELIVERY_LOG_LIMIT", default: defaults.deliveryLogLimit))
        }
    }

    /// Signing secrets from `<PROVIDER>[_<ENVIRONMENT>]_WEBHOOK_SECRETS`; throws
    /// ``WebhookSecretError`` (naming the variable) for a secret that cannot be derived.
    var secrets: WebhookSecrets {
        get throws { try WebhookSecrets(environment: ProcessInfo.processInfo.environment) }
    }
}
