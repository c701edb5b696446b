import CLibPQ

extension PostgresConnection {
    /// Streams rows into `COPY … FROM STDIN`. `body` writes through a buffering writer; the
    /// server's verdict (constraint violations, bad rows) surfaces when the copy ends. If `body`
    /// throws, the copy is aborted and nothing is kept.
    ///
    /// - Parameter statement: a complete `COPY … FROM STDIN` statement. COPY takes no parameters,
    ///   so build table and column names with `\(identifier:)`.
    /// - Returns: the number of rows copied.
    @discardableResult
    public func copyIn(
        _ statement: PostgresQuery,
        actorIsolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresCopyWriter) async throws -> Void
    ) async throws -> Int {
        guard statement.binds.isEmpty else {
            throw PostgresError(code: .syntaxError, message: "COPY statements cannot take bound parameters")
        }
        try await beginCopy(statement.sql)
        let writer = PostgresCopyWriter(connection: self)
        do {
            try await body(writer)
            try await writer.flush()
        } catch {
            await endCopy(abortReason: "aborted by the client: \(error)")
            throw error
        }
        return try await finishCopy()
    }

    /// The synchronous form for use inside ``perform(_:)``: sends `data` (already in the
    /// statement's format, for example ``PostgresBinaryCopy/bytes``) in large chunks and ends
    /// the copy. Returns the number of rows copied.
    @discardableResult
    public func copyIn(_ statement: PostgresQuery, data: [UInt8]) throws -> Int {
        guard statement.binds.isEmpty else {
            throw PostgresError(code: .syntaxError, message: "COPY statements cannot take bound parameters")
        }
        try beginCopy(statement.sql)
        do {
            var start = 0
            while start < data.count {
                let end = min(start + 1 << 20, data.count)
                try putCopyData(data[start..<end])
                start = end
            }
        } catch {
            endCopy(abortReason: "aborted by the client: \(error)")
            throw error
        }
        return try finishCopy()
    }

    private func beginCopy(_ sql: String) throws {
        let handle = try requireHandle()
        guard let result = PQexec(handle, sql) else { throw failure(query: sql) }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_IN else {
            _ = try decode(result, query: sql)
            throw PostgresError(code: .protocolViolation, message: "statement is not COPY … FROM STDIN", query: sql)
        }
        inCopy = true
    }

    /// Sends one buffer of COPY data (called by the writer).
    func putCopyData(_ bytes: ArraySlice<UInt8>) throws {
        let handle = try requireHandle()
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard status == 1 else { throw failure(query: "COPY") }
    }

    private func finishCopy() throws -> Int {
        let handle = try requireHandle()
        inCopy = false
        guard PQputCopyEnd(handle, nil) == 1 else { throw failure(query: "COPY") }
        return try drainCopyResults(handle)
    }

    private func endCopy(abortReason: String) {
        guard let handle, inCopy else { return }
        inCopy = false
        _ = PQputCopyEnd(handle, abortReason)
        _ = try? drainCopyResults(handle)
    }

    /// Reads results until libpq has none left, so the connection is usable again.
    private func drainCopyResults(_ handle: OpaquePointer) throws -> Int {
        var firstError: (any Error)?
        var rows = 0
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            do {
                rows = try decode(result, query: "COPY").affectedRows
            } catch {
                firstError = firstError ?? error
            }
            guard self.handle != nil else { break }
        }
        if let firstError { throw firstError }
        return rows
    }
}

/// Buffers COPY data and sends it in large chunks, so a row costs no actor hop.
public final class PostgresCopyWriter {
    private let connection: PostgresConnection
    private var buffer: [UInt8] = []
    /// Bytes sent or buffered so far (UTF-8).
    public private(set) var bytesWritten = 0
    /// Buffered bytes that trigger a send.
    public var flushThreshold = 256 * 1024

    init(connection: PostgresConnection) {
        self.connection = connection
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    /// Writes raw COPY data (already in the statement's format), counted in UTF-8 bytes.
    nonisolated(nonsending) public func write(_ text: String) async throws {
        try await write(bytes: text.utf8)
    }

    /// Writes raw bytes.
    nonisolated(nonsending) public func write(bytes: some Sequence<UInt8>) async throws {
        let before = buffer.count
        buffer.append(contentsOf: bytes)
        bytesWritten += buffer.count - before
        if buffer.count >= flushThreshold { try await flush() }
    }

    /// Writes one row in COPY's text format: tab-separated, `\N` for NULL, special characters escaped.
    nonisolated(nonsending) public func writeRow(_ values: [String?]) async throws {
        let before = buffer.count
        Self.appendTextRow(values, to: &buffer)
        bytesWritten += buffer.count - before
        if buffer.count >= flushThreshold { try await flush() }
    }

    /// Appends `values` as one row of COPY's text format (for callers that write COPY data to a file).
    public static func appendTextRow(_ values: [String?], to buffer: inout [UInt8]) {
        for (index, value) in values.enumerated() {
            if index > 0 { buffer.append(9) }
            guard let value else {
                buffer.append(92)
                buffer.append(78)
                continue
            }
            for byte in value.utf8 {
                switch byte {
                case 92:
                    buffer.append(92)
                    buffer.append(92)
                case 9:
                    buffer.append(92)
                    buffer.append(116)
                case 10:
                    buffer.append(92)
                    buffer.append(110)
                case 13:
                    buffer.append(92)
                    buffer.append(114)
                default: buffer.append(byte)
                }
            }
        }
        buffer.append(10)
    }

    /// Sends what is buffered.
    nonisolated(nonsending) public func flush() async throws {
        guard !buffer.isEmpty else { return }
        let chunk = buffer
        buffer.removeAll(keepingCapacity: true)
        try await connection.putCopyData(chunk[...])
    }
}
