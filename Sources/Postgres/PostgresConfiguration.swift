import CLibPQ
import Foundation

/// Where and how to connect: a libpq URI or conninfo string, passed through unchanged, so every
/// libpq parameter and `PG*` environment variable works.
public struct PostgresConfiguration: Sendable {
    /// A `postgresql://` URI or `key=value` conninfo; empty means libpq's defaults and `PG*` variables.
    public var connectionString: String
    /// `application_name` used when the connection string sets none.
    public var applicationName: String
    /// Seconds to wait for a connection when the connection string sets no `connect_timeout`.
    public var connectTimeout: Int
    /// Statements each connection keeps prepared on the server, so repeated queries skip parsing
    /// and planning. 0 disables it (needed behind poolers in transaction mode that lose them).
    public var statementCacheCapacity: Int

    /// Creates a configuration.
    public init(
        connectionString: String, applicationName: String = "billing-events", connectTimeout: Int = 10,
        statementCacheCapacity: Int = 256
    ) {
        self.connectionString = connectionString
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.statementCacheCapacity = statementCacheCapacity
    }

    /// Checks the syntax of the connection string without connecting.
    public func validate() throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "invalid connection string"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(code: .unableToConnect, message: message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        PQconninfoFree(options)
    }

    /// The effective host, port, database and user (defaults and `PG*` variables applied), never the
    /// password: safe to log.
    public var redactedDescription: String {
        var values: [String: String] = [:]
        if let defaults = PQconndefaults() {
            collect(defaults, into: &values)
            PQconninfoFree(defaults)
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        if let parsed = PQconninfoParse(connectionString, &errorMessage) {
            collect(parsed, into: &values)
            PQconninfoFree(parsed)
        } else if let errorMessage {
            PQfreemem(errorMessage)
            return "(unparsable connection string)"
        }
        let host = values["host"] ?? values["hostaddr"] ?? "/var/run/postgresql"
        let port = values["port"] ?? "5432"
        let user = values["user"] ?? "?"
        let dbname = values["dbname"] ?? user
        return "host=\(host) port=\(port) dbname=\(dbname) user=\(user)"
    }

    /// Whether the connection string sets `key` itself.
    func sets(_ key: String) -> Bool { parameter(key) != nil }

    /// The value the connection string gives `key` (`host`, `target_session_attrs`…), else its
    /// `PG*` variable's; nil when neither sets it.
    public func parameter(_ key: String) -> String? {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(connectionString, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return nil
        }
        defer { PQconninfoFree(parsed) }
        var values: [String: String] = [:]
        collect(parsed, into: &values)
        if let value = values[key] { return value }
        let variables = ["host": "PGHOST", "target_session_attrs": "PGTARGETSESSIONATTRS"]
        return variables[key].flatMap { ProcessInfo.processInfo.environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
    }

    private func collect(_ options: UnsafeMutablePointer<PQconninfoOption>, into values: inout [String: String]) {
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val, value.pointee != 0 {
                values[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
    }
}
