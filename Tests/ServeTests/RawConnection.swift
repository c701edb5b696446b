import Foundation
import TestSupport

/// One TCP connection to `127.0.0.1` driven byte by byte, for what ``RawHTTP`` (one HTTP/1.1
/// request with `Connection: close`) cannot show: interim responses, HTTP/1.0, whether the server
/// closes, a client that goes away mid-body. Blocking calls with timeouts; the server is another
/// process, so blocking a test thread for a moment cannot stall it.
final class RawConnection {
    /// A socket call failed.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private let fd: Int32
    private var closed = false

    init(port: Int) throws {
        fd = try RawHTTP.connectLoopback(port: port)
    }

    deinit { close() }

    /// Closes the connection (the server sees the end of its input).
    func close() {
        guard !closed else { return }
        closed = true
        Foundation.close(fd)
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let written = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw RawConnection.Failure("send: errno \(errno)") }
            sent += written
        }
    }

    /// What arrives within `timeout`, and whether the server closed the connection in that time.
    func read(timeout: Duration, until done: (([UInt8]) -> Bool)? = nil) throws -> (bytes: [UInt8], eof: Bool) {
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let milliseconds = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count == 0 { return (received, true) }
            if count < 0 { return (received, errno == ECONNRESET) }
            received += buffer[0..<count]
            if let done, done(received) { break }
        }
        return (received, false)
    }

    /// Reads until a complete response head (`\r\n\r\n`) and returns it (or whatever came in time).
    func readHead(timeout: Duration) throws -> String {
        let (bytes, _) = try read(timeout: timeout) { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads until the server closes or `timeout` passes: the text and whether it closed.
    func readToEnd(timeout: Duration) throws -> (String, Bool) {
        let (bytes, eof) = try read(timeout: timeout)
        return (String(decoding: bytes, as: UTF8.self), eof)
    }
}
