import ArgumentParser

/// The command-line entry point: parses arguments and hands over to the wiring functions.
@main
struct BillingEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing-events",
        abstract: "Receives billing webhooks, keeps them in an append-only PostgreSQL log, and serves read models.",
        discussion: """
            Without DATABASE_URL every command uses an embedded development database: a private PostgreSQL cluster created under ./.billing-events/postgres with the installed initdb and pg_ctl, listening on a Unix socket only (as root, where the postgres user cannot enter that directory, under /var/lib/billing-events instead; see `billing-events embedded`). The last command using it stops the server it started. With DATABASE_URL (a libpq URI or conninfo; PG* variables such as PGPASSWORD also apply) it uses that server.
            """,
        subcommands: [
            Serve.self, Migrate.self, Backfill.self, Projections.self, APIKeys.self, Quarantine.self, Deliveries.self, Events.self, Partitions.self,
            Archive.self,
            Restore.self, Embedded.self,
        ]
    )
}
