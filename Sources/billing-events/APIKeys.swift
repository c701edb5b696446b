import ArgumentParser
import BillingStore
import Foundation

/// `billing-events api-keys`: tokens for the query API.
struct APIKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-keys",
        abstract: "Create, list and revoke the API keys of the query API (/v1).",
        discussion: "A token is printed once at creation and stored only as a SHA-256 hash; send it as Authorization: Bearer <token>.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print its token (shown only this once).")

        @OptionGroup var database: DatabaseOptions

        @Option(help: "What the key is for (who uses it), shown by list.")
        var name: String

        func validate() throws {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.utf8.count <= 200 else {
                throw ValidationError("--name must be 1 to 200 characters")
            }
        }

        func run() async throws {
            try await reportingErrors {
                try await withPool(database) { pool in
                    let (key, token) = try await APIKeyStore(pool: pool).create(name: name)
                    print(token)
                    FileHandle.standardError.write(Data("created API key \(key.prefix) (\(key.name)); the token above is not shown again\n".utf8))
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys: name, prefix, created, last used, revoked.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingErrors {
                try await withPool(database) { pool in
                    let keys = try await APIKeyStore(pool: pool).list()
                    guard !keys.isEmpty else { return print("no API keys; create one with billing-events api-keys create --name NAME") }
                    var table = TextTable(header: ["PREFIX", "NAME", "CREATED", "LAST USED", "REVOKED"])
                    for key in keys {
                        table.rows.append([
                            key.prefix, key.name, key.createdAt.formatted(.iso8601), key.lastUsedAt?.formatted(.iso8601) ?? "never",
                            key.revokedAt?.formatted(.iso8601) ?? "-",
                        ])
                    }
                    print(table.render())
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its prefix or id; requests with it are refused at once.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The key's prefix (as list shows it) or id.")
        var key: String

        func run() async throws {
            try await reportingErrors {
                try await withPool(database) { pool in
                    guard let revoked = try await APIKeyStore(pool: pool).revoke(key) else {
                        FileHandle.standardError.write(Data("no API key with prefix or id \(key)\n".utf8))
                        throw ExitCode.failure
                    }
                    print("revoked \(revoked.prefix) (\(revoked.name))")
                }
            }
        }
    }
}
