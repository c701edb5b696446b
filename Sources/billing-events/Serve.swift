import ArgumentParser
import Foundation

/// `billing-events serve`: the HTTP server with its background work.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: health endpoints now, webhooks, projections and the query API as they land.",
        discussion: "Stops gracefully on SIGTERM or SIGINT: in-flight requests finish, then the database pool closes.")

    @OptionGroup var database: DatabaseOptions

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
            try await runServe(database: database, host: host, port: port, migrate: !noMigrate)
        }
    }
}
