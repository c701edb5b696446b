import ArgumentParser
import Foundation

/// `billing-events serve`: the HTTP server with its background work.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: webhook receiver, projections and health endpoints (the query API as it lands).",
        discussion: """
            Webhooks: POST /webhooks/{flexprice|mintcash|mintfax}[/{live|test}], signed with the secrets in FLEXPRICE_WEBHOOK_SECRETS, MINTCASH_WEBHOOK_SECRETS, MINTFAX_WEBHOOK_SECRETS (comma-separated, several during rotation) or <PROVIDER>_<LIVE|TEST>_WEBHOOK_SECRETS for one environment. A provider without a secret is refused (401) and named at start-up.

            Projections (customers, subscriptions, payments, wallets) follow the log in commit order; with several instances, one runs each projection and the others stand by. See `billing-events projections --help`.

            Stops gracefully on SIGTERM or SIGINT: in-flight requests finish (each is committed and acknowledged, or not acknowledged), the delivery log is flushed, then the database pool closes.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup(title: "Webhook receiver") var receiver: ReceiverOptions
    @OptionGroup(title: "Projections") var projector: ProjectorOptions

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
            try await runServe(database: database, receiver: receiver, projector: projector, host: host, port: port, migrate: !noMigrate)
        }
    }
}
