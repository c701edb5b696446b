import BillingCore
import Foundation
import Postgres

/// A record that could not be stored, for the rejects file.
public struct BackfillReject: Sendable, Equatable {
    /// The 1-based line the record starts on.
    public var line: Int
    /// Why.
    public var reason: QuarantineReason
    /// The record's bytes.
    public var record: [UInt8]

    /// The rejects-file line: `{"line":…,"code":…,"reason":…,"record":…}` (`record_base64` when the
    /// record is not UTF-8), newline-terminated.
    var ndjson: [UInt8] {
        var members: [(key: String, value: JSONValue)] = [
            ("line", .number(String(line))), ("code", .string(reason.code.rawValue)), ("reason", .string(reason.message)),
        ]
        if let text = String(validating: record, as: UTF8.self), !text.utf8.contains(0) {
            members.append(("record", .string(text)))
        } else {
            members.append(("record_base64", .string(Data(record).base64EncodedString())))
        }
        return Array(JSONValue.object(members).jsonText.utf8) + [10]
    }
}

/// A batch decoded and encoded for the staging table, ready to write.
struct BackfillStagedBatch: Sendable {
    /// Binary COPY data of the valid records, sorted by (provider, dedupe key).
    var copyData: [UInt8]
    /// Valid records in `copyData`.
    var rows: Int64
    /// Records rejected, in file order.
    var rejects: [BackfillReject]
    /// Records in the batch.
    var read: Int64
    /// The file's record number after this batch.
    var recordsEnd: Int64
    /// The line of the batch's last record.
    var lastLine: Int
    /// File bytes read when the batch was cut (progress).
    var fileBytesRead: Int64
    /// The months (UTC) of the valid records' event times: their log partitions.
    var months: Set<Date>
}

/// The staging table and the merge into the log: each batch is COPYed (binary) into a temporary
/// table and moved with one `INSERT … SELECT … ON CONFLICT DO NOTHING`, so duplicates of webhooks,
/// of earlier imports and within the file cost no round trip and no error.
enum BackfillStaging {
    /// Creates the session's staging table (emptied at every commit).
    static func prepare(on connection: isolated PostgresConnection) throws {
        // Room for a batch in memory before the temporary table spills (only settable before first use).
        try connection.execute("SET temp_buffers = '64MB'")
        try connection.execute(EventsTable.createStaging)
    }

    /// Decodes the records of `batch` and encodes the valid ones as binary COPY rows (pure; runs
    /// on any core).
    static func encode(_ batch: BackfillRawBatch, decoder: BackfillDecoder) -> BackfillStagedBatch {
        var items: [BackfillItem] = []
        items.reserveCapacity(batch.records.count)
        var rejects: [BackfillReject] = []
        for span in batch.records {
            let bytes = batch.bytes[span.range]
            do {
                items.append(try decoder.decode(bytes, line: span.line))
            } catch {
                rejects.append(BackfillReject(line: span.line, reason: error, record: Array(bytes)))
            }
        }
        // One order of unique keys for every writer keeps concurrent merges from deadlocking.
        items.sort { ($0.event.provider.rawValue, $0.event.dedupeKey) < ($1.event.provider.rawValue, $1.event.dedupeKey) }
        var copy = PostgresBinaryCopy(reservingCapacity: batch.bytes.count + items.count * 400)
        for item in items { EventsTable.appendStaged(item.event, item.delivery, to: &copy) }
        copy.finish()
        return BackfillStagedBatch(
            copyData: copy.bytes, rows: Int64(items.count), rejects: rejects, read: Int64(batch.records.count),
            recordsEnd: batch.firstRecord + Int64(batch.records.count), lastLine: batch.records.last?.line ?? 0,
            fileBytesRead: batch.fileBytesRead,
            months: Set(items.map { EventPartitions.month(of: $0.event.occurredAt ?? $0.delivery.receivedAt) }))
    }

    /// Loads `batch` into the log; returns the events inserted and the snapshots among them.
    static func merge(_ batch: BackfillStagedBatch, on connection: isolated PostgresConnection) throws -> (inserted: Int64, snapshots: Int64) {
        guard batch.rows > 0 else { return (0, 0) }
        try connection.copyIn(EventsTable.copyStaging, data: batch.copyData)
        let row = try connection.execute(EventsTable.mergeStaging).rows[0]
        return try row.decode((Int64, Int64).self)
    }
}
