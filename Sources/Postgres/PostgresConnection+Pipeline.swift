import CLibPQ
import Foundation
import Logging

extension PostgresConnection {
    /// Sends several statements in one round trip using libpq's pipeline mode.
    ///
    /// The statements run as one implicit transaction (unless they manage their own): if one
    /// fails, the rest are skipped, everything is rolled back, and that statement's error is thrown.
    /// Sending is non-blocking with input drained meanwhile, so large batches cannot deadlock.
    public nonisolated func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresResult] {
        try await withCancellation { try await self.runPipeline(queries) }
    }

    private func runPipeline(_ queries: [PostgresQuery]) throws -> [PostgresResult] {
        let handle = try requireHandle()
        guard !queries.isEmpty else { return [] }
        guard PQenterPipelineMode(handle) == 1 else { throw failure(query: nil) }
        var exited = false
        defer { if !exited { abandonPipeline() } }

        PQsetnonblocking(handle, 1)
        for query in queries {
            let sent = try LibPQ.withParameters(query.binds) { count, types, values, lengths, formats in
                PQsendQueryParams(handle, query.sql, count, types, values, lengths, formats, 0)
            }
            guard sent == 1 else { throw failure(query: query.sql) }
            try flush(handle, untilEmpty: false)
        }
        guard PQpipelineSync(handle) == 1 else { throw failure(query: nil) }
        try flush(handle, untilEmpty: true)
        PQsetnonblocking(handle, 0)

        var results: [PostgresResult] = []
        var firstError: (any Error)?
        for query in queries {
            while let result = PQgetResult(handle) {
                defer { PQclear(result) }
                switch PQresultStatus(result) {
                case PGRES_PIPELINE_ABORTED:
                    continue
                default:
                    do {
                        results.append(try LibPQ.decode(result, connection: handle, query: query.sql))
                    } catch {
                        firstError = firstError ?? error
                    }
                }
            }
        }
        // The sync point closes the pipeline's implicit transaction.
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        guard PQexitPipelineMode(handle) == 1 else { throw failure(query: nil) }
        exited = true
        if let firstError { throw firstError }
        return results
    }

    /// Pushes buffered output to the server, reading its replies meanwhile so neither side
    /// blocks on a full socket buffer.
    private func flush(_ handle: OpaquePointer, untilEmpty: Bool) throws {
        while true {
            switch PQflush(handle) {
            case 0: return
            case 1: break
            default: throw failure(query: nil)
            }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN | POLLOUT), revents: 0)
            guard poll(&descriptor, 1, untilEmpty ? -1 : 0) >= 0 || errno == EINTR else {
                throw failure(query: nil)
            }
            if descriptor.revents & Int16(POLLIN) != 0, PQconsumeInput(handle) == 0 {
                throw failure(query: nil)
            }
            if !untilEmpty { return }
        }
    }

    /// After a failure mid-pipeline the session state is unknown: close it so it is never reused.
    private func abandonPipeline() {
        logger.debug("pipeline failed part-way; closing the connection")
        close()
    }
}
