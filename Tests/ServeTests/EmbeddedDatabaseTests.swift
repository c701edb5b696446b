import Foundation
import Postgres
import PostgresServer
import TestSupport
import Testing

/// Why a step of these tests failed.
private struct EmbeddedFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The README's first command as a newcomer runs it: `serve` with DATABASE_URL unset, from a
/// project directory inside a mode-700 directory (as root, the `postgres` user cannot enter it).
@Suite(.serialized) struct EmbeddedDatabaseTests {
    /// A project directory whose parent only its owner may enter, like root's home or `mktemp -d`.
    private func privateProject() throws -> String {
        let home = TestDatabase.makeScratchDirectory() + "/home"
        try FileManager.default.createDirectory(atPath: home + "/project", withIntermediateDirectories: true)
        chmod(home, 0o700)
        return home + "/project"
    }

    /// Runs the real executable in `directory` with the embedded database (no DATABASE_URL).
    private func launch(_ arguments: [String], in directory: String, log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestExecutables.path("billing-events"))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        for name in ["DATABASE_URL", "BILLING_EVENTS_DATA_DIR", "READ_DATABASE_URL", "LOG_FORMAT", "ROLE", "PG_BINDIR"] {
            environment[name] = nil
        }
        environment["LOG_LEVEL"] = "debug"
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        return process
    }

    private func command(_ arguments: [String], in directory: String) async throws -> (status: Int32, output: String) {
        let log = TestDatabase.makeScratchDirectory() + "/command.log"
        let process = try launch(arguments, in: directory, log: log)
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    private func serve(in directory: String) async throws -> (process: Process, port: Int, log: String) {
        let port = RawHTTP.freePort()
        let log = TestDatabase.makeScratchDirectory() + "/serve-\(port).log"
        let process = try launch(["serve", "--port", "\(port)"], in: directory, log: log)
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard process.isRunning else { throw EmbeddedFailure("serve exited (\(process.terminationStatus)):\n\(text)") }
            if let answer = try? await RawHTTP.send(port: port, path: "/readyz", timeout: 2), answer.status == 200 {
                return (process, port, log)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw EmbeddedFailure("serve was not ready within 120 s")
    }

    private func terminate(_ process: Process) async throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw EmbeddedFailure("serve did not exit within 60 s of SIGTERM")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// The postmaster pid `embedded status` reports, and the cluster's path.
    private func status(in directory: String) async throws -> (cluster: String, pid: Int32?) {
        let (code, output) = try await command(["embedded", "status"], in: directory)
        #expect(code == 0, "\(output)")
        let lines = output.split(separator: "\n")
        let cluster = lines.first { $0.hasPrefix("cluster: ") }.map { String($0.dropFirst("cluster: ".count)) } ?? ""
        let pid = lines.first { $0.hasPrefix("server: running (pid ") }
            .flatMap { Int32($0.dropFirst("server: running (pid ".count).prefix { $0.isNumber }) }
        return (cluster, pid)
    }

    /// Whether `pid` still runs 10 s from now at the latest: `pg_ctl stop -w` returns once the
    /// postmaster removed its pid file, a moment before the process itself has exited.
    private func outlives(_ pid: Int32) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while isAlive(pid), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return isAlive(pid)
    }

    /// Whether `pid` runs (a zombie waiting to be reaped by init does not).
    private func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[close...].dropFirst(2).hasPrefix("Z")
    }

    @Test func serveInAPrivateDirectoryWorksAndStopsOnlyAnUnsharedClusterItStarted() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: TestExecutables.path("billing-events")), "build the executable first (swift build)")
        let project = try privateProject()
        defer {
            // Deletes a relocated cluster too; the test checks the command works at the end.
            _ = try? Subprocess.run([TestExecutables.path("billing-events"), "embedded", "remove", "--data-dir", project + "/.billing-events"])
        }

        // Alone: ready, and after SIGTERM no postmaster is left.
        let first = try await serve(in: project)
        let (cluster, pid) = try await status(in: project)
        let postmaster = try #require(pid, "the cluster runs while serve does")
        if geteuid() == 0 {
            #expect(cluster.hasPrefix(EmbeddedPostgres.relocationRoot + "/"), "root: the cluster lives where postgres can reach it")
        }
        #expect(try await terminate(first.process) == 0)
        #expect(
            !(await outlives(postmaster)), "serve stopped the cluster it started: \((try? String(contentsOfFile: first.log, encoding: .utf8)) ?? "")")
        #expect(try await status(in: project).pid == nil)

        // Shared: the one that started it leaves first, the other keeps its database.
        let starter = try await serve(in: project)
        let sharer = try await serve(in: project)
        let sharedPID = try #require(try await status(in: project).pid)
        #expect(try await terminate(starter.process) == 0)
        #expect(isAlive(sharedPID), "a cluster another process uses is not stopped")
        #expect(try await RawHTTP.send(port: sharer.port, path: "/readyz").status == 200)
        #expect(try await status(in: project).cluster == cluster, "the same cluster is reused")
        #expect(try await terminate(sharer.process) == 0)
        #expect(!(await outlives(sharedPID)), "the last user stops it: \((try? String(contentsOfFile: sharer.log, encoding: .utf8)) ?? "")")

        // The documented command deletes it.
        let (code, output) = try await command(["embedded", "remove"], in: project)
        #expect(code == 0, "\(output)")
        #expect(!FileManager.default.fileExists(atPath: cluster))
    }
}
