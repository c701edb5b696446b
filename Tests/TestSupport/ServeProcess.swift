import Foundation
import Postgres

/// `billing-events serve` as a separate process (the debug executable built beside the tests) on a
/// free port against `configuration`, its standard error kept in a file. For tests of what only a
/// real process shows: signals, kill -9, several instances, log output.
public final class ServeProcess: @unchecked Sendable {
    /// The port it listens on.
    public let port: Int
    /// Where its standard error goes.
    public let logPath: String
    private let process = Process()

    /// Starts `serve --port P --database-url URL` plus `arguments`, with `environment` added to
    /// this process's (`DATABASE_URL` and `LOG_*` of the test run are not inherited).
    public init(configuration: PostgresConfiguration, arguments: [String] = [], environment: [String: String] = [:]) throws {
        port = RawHTTP.freePort()
        logPath = TestDatabase.makeScratchDirectory() + "/serve-\(port).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: TestExecutables.path("billing-events"))
        process.arguments = ["serve", "--port", "\(port)", "--database-url", configuration.connectionString] + arguments
        var inherited = ProcessInfo.processInfo.environment
        for name in ["DATABASE_URL", "READ_DATABASE_URL", "LOG_LEVEL", "LOG_FORMAT", "ROLE"] { inherited[name] = nil }
        process.environment = inherited.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Whether it still runs.
    public var isRunning: Bool { process.isRunning }

    /// Waits until `/readyz` answers 200 (or `/livez` when `ready` is false).
    public func waitUntilUp(ready: Bool = true, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw RawHTTP.Failure(description: "serve exited (\(process.terminationStatus)):\n\(log)") }
            if let answer = try? await RawHTTP.send(port: port, path: ready ? "/readyz" : "/livez", timeout: 2), answer.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw RawHTTP.Failure(description: "serve did not come up within \(timeout):\n\(log)")
    }

    /// Sends `signal` (SIGTERM, SIGKILL).
    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the exit and returns its status (or throws after `timeout`).
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw RawHTTP.Failure(description: "serve did not exit within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Everything it wrote to standard error so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The current `/metrics` exposition as series (`name{labels}`) to values.
    public func metrics() async throws -> [String: Double] {
        let answer = try await RawHTTP.send(port: port, path: "/metrics")
        guard answer.status == 200 else { throw RawHTTP.Failure(description: "/metrics answered \(answer.status)") }
        return Self.parseExposition(answer.text)
    }

    /// Parses Prometheus text: `series value` lines, comments skipped.
    public static func parseExposition(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }
}
