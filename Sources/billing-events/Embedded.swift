import ArgumentParser
import Foundation
import Logging
import Postgres
import PostgresServer

/// `billing-events embedded`: where the embedded development database is, and removing it.
struct Embedded: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show, stop or remove the embedded development database (used when DATABASE_URL is unset).",
        discussion: """
            The cluster lives in DATA_DIR/postgres (default ./.billing-events/postgres). As root, when the postgres user cannot enter DATA_DIR (a home of mode 700, a mktemp -d), it lives in \(EmbeddedPostgres.relocationRoot)/<name>-<hash>/postgres instead, tied to DATA_DIR's absolute path and reused by every run there. A server that a command started is stopped when the last command using it exits.
            """,
        subcommands: [Status.self, Stop.self, Remove.self])

    /// The `--data-dir` every subcommand takes.
    struct Location: ParsableArguments {
        @Option(
            name: .customLong("data-dir"),
            help: ArgumentHelp("Directory of the embedded development database (env: BILLING_EVENTS_DATA_DIR).", valueName: "path"))
        var dataDirectory: String?

        /// The project's cluster, wherever it lives.
        func cluster() async throws -> EmbeddedPostgres {
            try await EmbeddedPostgres.forProject(DatabaseOptions.embeddedDirectory(dataDirectory), logger: makeLogger())
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print where the cluster is and whether it runs.")

        @OptionGroup var location: Location

        func run() async throws {
            let cluster = try await location.cluster()
            let path = cluster.options.dataDirectory
            let exists = FileManager.default.fileExists(atPath: path + "/PG_VERSION")
            print("cluster: \(path)\(exists ? "" : " (not created yet)")")
            print("socket: \(cluster.socketDirectory)")
            let pid = try cluster.runningPID()
            print("server: \(pid.map { "running (pid \($0))" } ?? "stopped")\(try cluster.isInUse() ? ", in use by a billing-events process" : "")")
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the cluster's server (refused while a billing-events process uses it).")

        @OptionGroup var location: Location

        func run() async throws {
            let cluster = try await location.cluster()
            guard try !cluster.isInUse() else {
                throw ValidationError("\(cluster.options.dataDirectory) is in use by a running billing-events process; stop it first")
            }
            try await cluster.stop()
            print("stopped \(cluster.options.dataDirectory)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the server and delete the cluster with all its data (refused while a billing-events process uses it).")

        @OptionGroup var location: Location

        func run() async throws {
            let cluster = try await location.cluster()
            do {
                try await cluster.remove()
            } catch let error as EmbeddedPostgresError {
                FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
                throw ExitCode.failure
            }
            print("removed \(cluster.options.dataDirectory)")
        }
    }
}
