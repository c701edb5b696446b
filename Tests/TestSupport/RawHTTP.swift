import Foundation
import Synchronization

/// A minimal HTTP/1.1 client over a blocking socket, one connection per request
/// (`Connection: close`), run on a Dispatch thread so many can be in flight without holding the
/// cooperative pool. Tests of a separate `serve` process need exactly this: whether an answer
/// arrived in full (acknowledged) or the connection failed (not acknowledged).
public enum RawHTTP {
    /// A complete answer.
    public struct Response: Sendable {
        /// Status code.
        public var status: Int
        /// Header fields, names lower-cased.
        public var headers: [String: String]
        /// Body bytes.
        public var body: [UInt8]
        /// The body as UTF-8.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Why no complete answer arrived.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// A blocking TCP socket connected to `127.0.0.1:port`; the caller closes it.
    public static func connectLoopback(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let failure = Failure(description: "connect: errno \(errno)")
            close(fd)
            throw failure
        }
        return fd
    }

    /// Sends one request to `127.0.0.1:port` and reads the whole answer.
    public static func send(
        port: Int, method: String = "GET", path: String, headers: [(String, String)] = [], body: [UInt8] = [], timeout: Int = 10
    ) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { try sendBlocking(port: port, method: method, path: path, headers: headers, body: body, timeout: timeout) })
            }
        }
    }

    /// ``send(port:method:path:headers:body:timeout:)`` on the calling thread.
    public static func sendBlocking(
        port: Int, method: String, path: String, headers: [(String, String)], body: [UInt8], timeout: Int
    ) throws -> Response {
        let fd = try connectLoopback(port: port)
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < request.count {
            let written = request.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += written
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "recv: errno \(errno) after \(received.count) bytes") }
            received += buffer[0..<count]
        }
        return try parse(received)
    }

    private static func parse(_ bytes: [UInt8]) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            throw Failure(description: "incomplete answer (\(bytes.count) bytes)")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = Array(bytes[(end + 4)...])
        if let length = headers["content-length"].flatMap(Int.init), body.count < length {
            throw Failure(description: "body cut short: \(body.count) of \(length) bytes")
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// A TCP port nobody listens on right now, below the kernel's ephemeral range: a port the kernel
    /// handed out for a bind to port 0 (another test's server) or an outgoing connection could be
    /// handed out again at once, and two servers of concurrent tests once met on one (each request
    /// of one test reached the other's). Random in 20000–31999, bindable, never twice per process.
    public static func freePort() -> Int {
        while true {
            let port = Int.random(in: 20000..<32000)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
    }

    /// Ports ``freePort()`` has returned in this process.
    private static let handedOut = Mutex<Set<Int>>([])
}
