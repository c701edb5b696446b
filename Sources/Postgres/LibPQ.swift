import CLibPQ
import Foundation

/// Helpers that turn libpq results and errors into Swift values. Called only from a connection's
/// own executor.
enum LibPQ {
    /// Calls `body` with libpq's parallel parameter arrays, all pointing into one arena that lives
    /// for the duration of the call.
    static func withParameters<R>(
        _ binds: [PostgresBind],
        _ body: (
            _ count: Int32, _ types: UnsafePointer<Oid>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?,
            _ lengths: UnsafePointer<Int32>?, _ formats: UnsafePointer<Int32>?
        ) throws -> R
    ) throws -> R {
        if binds.isEmpty { return try body(0, nil, nil, nil, nil) }
        var arena: [UInt8] = []
        arena.reserveCapacity(binds.reduce(0) { $0 + ($1.bytes?.count ?? 0) + 1 })
        var offsets: [Int?] = []
        for (index, bind) in binds.enumerated() {
            guard let bytes = bind.bytes else {
                offsets.append(nil)
                continue
            }
            if bind.format == .text, bytes.contains(0) {
                // libpq reads text parameters up to the first NUL; refuse rather than truncate.
                throw PostgresError(
                    code: .characterNotInRepertoire, message: "parameter $\(index + 1) contains a NUL byte, which text values cannot hold")
            }
            offsets.append(arena.count)
            arena += bytes
            arena.append(0)
        }
        let types = binds.map { Oid($0.type.rawValue) }
        let lengths = binds.map { Int32($0.bytes?.count ?? 0) }
        let formats = binds.map { $0.format.rawValue }
        return try arena.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.map { base.advanced(by: $0).assumingMemoryBound(to: CChar.self) }
            }
            return try body(Int32(binds.count), types, values, lengths, formats)
        }
    }

    /// The error carried by a failed result, or by the connection when libpq gave no result.
    static func error(result: OpaquePointer?, connection: OpaquePointer?, query: String?) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let result, let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        if let sqlState = field(CLIBPQ_DIAG_SQLSTATE) {
            return PostgresError(
                code: PostgresError.Code(sqlState),
                message: field(CLIBPQ_DIAG_MESSAGE_PRIMARY) ?? "",
                severity: field(CLIBPQ_DIAG_SEVERITY),
                detail: field(CLIBPQ_DIAG_MESSAGE_DETAIL),
                hint: field(CLIBPQ_DIAG_MESSAGE_HINT),
                constraint: field(CLIBPQ_DIAG_CONSTRAINT_NAME),
                table: field(CLIBPQ_DIAG_TABLE_NAME),
                column: field(CLIBPQ_DIAG_COLUMN_NAME),
                schema: field(CLIBPQ_DIAG_SCHEMA_NAME),
                position: field(CLIBPQ_DIAG_STATEMENT_POSITION).flatMap { Int($0) },
                query: query)
        }
        return connectionError(connection, query: query)
    }

    /// An error for a failure libpq reports on the connection without a SQLSTATE.
    static func connectionError(_ connection: OpaquePointer?, query: String?) -> PostgresError {
        let message = connection.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? "no connection"
        let broken = connection.map { PQstatus($0) != CONNECTION_OK } ?? true
        return PostgresError(
            code: broken ? .connectionFailure : .protocolViolation,
            message: message.trimmingCharacters(in: .whitespacesAndNewlines),
            query: query)
    }

    /// Decodes a finished result into Swift values, or throws its error.
    static func decode(_ result: OpaquePointer, connection: OpaquePointer, query: String?) throws -> PostgresResult {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE, PGRES_EMPTY_QUERY:
            break
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            throw PostgresError(code: .protocolViolation, message: "COPY must go through copyIn", query: query)
        default:
            throw error(result: result, connection: connection, query: query)
        }
        let fieldCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var names: [String] = []
        var types: [PostgresDataType] = []
        names.reserveCapacity(fieldCount)
        types.reserveCapacity(fieldCount)
        for column in 0..<Int32(fieldCount) {
            names.append(String(cString: PQfname(result, column)))
            types.append(PostgresDataType(rawValue: UInt32(PQftype(result, column))))
        }
        let columns = PostgresColumns(names: names, types: types)
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(fieldCount)
            for column in 0..<Int32(fieldCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let pointer = UnsafeRawPointer(PQgetvalue(result, row, column)!)
                    values.append(String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        let tag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        let affected = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
        return PostgresResult(columns: columns, rows: rows, commandTag: tag, affectedRows: affected)
    }
}
