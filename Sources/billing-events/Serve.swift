import ArgumentParser
import Foundation

/// `billing-events serve`: the HTTP server with its background work.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: webhook receiver and health endpoints (projections and the query API as they land).",
        discussion: """
            Webhooks: POST /webhooks/{flexprice|mintcash|mintfax}[/{live|test}], signed with the secrets in FLEXPRICE_WEBHOOK_SECRETS, MINTCASH_WEBHOOK_SECRETS, MINTFAX_WEBHOOK_SECRETS (comma-separated, several during rotation) or <PROVIDER>_<LIVE|TEST>_WEBHOOK_SECRETS for one environment. A provider without a secret is refused (401) and named at start-up.

            Stops gracefully on SIGTERM or SIGINT: in-flight requests finish (each is committed and acknowledged, or not acknowledged), the delivery log is flushed, then the database pool closes.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup(title: "Webhook receiver") var receiver: ReceiverOptions

    @Option(help: ArgumentHelp("Address to listen on (env: HOST).", valueName: "address"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on (env: PORT).", valueName: "port"))
    var port: Int?

    @Flag(help: "Do not apply pending migrations at start-up (/readyz stays false until they are applied).")
    var noMigrate = false

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let port = port ?? Int(environment["PORT"] ?? "8080"), (0...65535).contains(port) else {
            throw ValidationError("PORT must be a number between 0 and 65535")
        }
        let host = host ?? environment["HOST"] ?? "127.0.0.1"
        try await reportingErrors {
            try await runServe(database: database, receiver: receiver, host: host, port: port, migrate: !noMigrate)
        }
    }
}
