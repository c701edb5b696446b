import BillingCore
import Crypto
import Foundation

/// Records read from a backfill file, in order, a batch at a time.
struct BackfillRawBatch: Sendable {
    /// The records' bytes, back to back.
    var bytes: [UInt8]
    /// Each record's place in `bytes` and its line in the file.
    var records: [BackfillRecordSpan]
    /// The file's record number (0-based, CSV header not counted) of the first record.
    var firstRecord: Int64
    /// Bytes of the file (compressed, for gzip) read so far: the progress figure.
    var fileBytesRead: Int64
}

/// Streams one backfill file: plain or gzip (recognised by its magic bytes), split into records by
/// ``BackfillSplitter``, grouped into batches of a fixed number of records so a resumed run meets
/// the same boundaries. Memory stays at one read chunk plus the batch, whatever the file's size.
///
/// Blocking: call it from a thread that may block (``BackfillImporter`` uses a dispatch queue).
final class BackfillReader {
    /// The CSV header (CSV files; read before the first batch).
    private(set) var csvHeader: [String]?
    /// The file's size on disk.
    let fileSize: Int64

    private let handle: FileHandle
    private let batchSize: Int
    private var inflater: GzipInflater?
    private var splitter: BackfillSplitter
    private var buffer: [UInt8] = []
    private var pending: [BackfillRecordSpan] = []
    private var fileBytesRead: Int64 = 0
    private var atEnd = false
    private var nextRecord: Int64 = 0
    private let skipRecords: Int64
    private var failure: (any Error)?

    /// Opens `path`; `skipRecords` records (already committed by an earlier run) are read past.
    init(path: String, format named: BackfillFormat?, batchSize: Int, skipRecords: Int64 = 0) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BackfillError("\(path): cannot open the file") }
        self.handle = handle
        self.batchSize = batchSize
        self.skipRecords = skipRecords
        fileSize = Int64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0)
        splitter = BackfillSplitter(format: named ?? .ndjson)
        try fill()
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { buffer.removeFirst(3) }  // a UTF-8 byte-order mark
        if named == nil {
            // The layout is not named: the content's first byte decides.
            splitter = BackfillSplitter(format: BackfillFormat.sniffed(firstByte: buffer.first { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }))
        }
        if splitter.format == .csv {
            guard let header = try nextRecord(countIt: false) else { throw BackfillError("\(path): the CSV file has no header") }
            csvHeader = try CSVRecord.fields(header.bytes).map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    deinit {
        try? handle.close()
    }

    /// The next batch, or nil at the end of the file. When the file breaks part-way, the records
    /// before the break come as a last batch and the next call throws.
    func next() throws -> BackfillRawBatch? {
        if let failure {
            self.failure = nil
            throw failure
        }
        var batch = BackfillRawBatch(bytes: [], records: [], firstRecord: nextRecord, fileBytesRead: 0)
        batch.bytes.reserveCapacity(batchSize * 2048)
        do {
            while batch.records.count < batchSize, let record = try nextRecord(countIt: true) {
                if record.number < skipRecords {
                    batch.firstRecord = record.number + 1
                    continue
                }
                let start = batch.bytes.count
                batch.bytes.append(contentsOf: record.bytes)
                batch.records.append(BackfillRecordSpan(range: start..<batch.bytes.count, line: record.line))
            }
        } catch {
            guard !batch.records.isEmpty else { throw error }
            failure = error
        }
        batch.fileBytesRead = fileBytesRead
        return batch.records.isEmpty ? nil : batch
    }

    /// The next record (copied out of the read buffer), reading more of the file as needed.
    private func nextRecord(countIt: Bool) throws -> (bytes: ArraySlice<UInt8>, line: Int, number: Int64)? {
        while pending.isEmpty {
            if let failure = splitter.failure { throw failure }
            if splitter.consumed > 0 {
                buffer.removeFirst(splitter.consumed)
                splitter.discard(splitter.consumed)
            }
            if atEnd { return nil }
            try fill()
            pending = splitter.split(buffer, isEnd: atEnd).reversed()
        }
        let span = pending.removeLast()
        defer { if countIt { nextRecord += 1 } }
        return (buffer[span.range], span.line, nextRecord)
    }

    /// Reads the next chunk of the file (decompressed) onto the buffer.
    private func fill() throws {
        let chunk: Data
        do {
            chunk = try handle.read(upToCount: 1 << 20) ?? Data()
        } catch {
            throw BackfillError("reading the file failed: \(error.localizedDescription)")
        }
        if fileBytesRead == 0, chunk.starts(with: [0x1F, 0x8B]) { inflater = try GzipInflater() }
        fileBytesRead += Int64(chunk.count)
        if chunk.isEmpty {
            atEnd = true
            try inflater?.finish()
            return
        }
        if let inflater {
            try chunk.withUnsafeBytes { try inflater.inflate($0, into: &buffer) }
        } else {
            buffer.append(contentsOf: chunk)
        }
    }

    /// SHA-256 of the file's bytes as stored (compressed, for gzip): the identity of its checkpoint.
    static func contentHash(path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BackfillError("\(path): cannot open the file") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return Array(hasher.finalize())
    }
}
