import Foundation

/// `FILE.rejects.ndjson`: one line per rejected record. A resumed run cuts it back to the length
/// its checkpoint recorded, so a record rejected before a crash is not listed twice.
final class BackfillRejectsFile {
    /// Where it is.
    let path: String
    /// Its length so far.
    private(set) var size: Int64
    private var handle: FileHandle?

    /// Opens the rejects file of a run that continues at `committedBytes` (0 for a fresh start).
    init(path: String, committedBytes: Int64) throws {
        self.path = path
        size = committedBytes
        if committedBytes == 0 {
            try? FileManager.default.removeItem(atPath: path)
        } else if let handle = FileHandle(forUpdatingAtPath: path) {
            try handle.truncate(atOffset: UInt64(committedBytes))
            try handle.seekToEnd()
            self.handle = handle
        } else {
            // The operator removed it; start a new one rather than fail the import.
            size = 0
        }
    }

    /// Appends `rejects` and makes them durable before the batch that rejected them commits.
    func append(_ rejects: [BackfillReject]) throws {
        guard !rejects.isEmpty else { return }
        if handle == nil {
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw BackfillError("\(path): cannot create the rejects file")
            }
            self.handle = handle
        }
        let data = Data(rejects.flatMap(\.ndjson))
        try handle?.write(contentsOf: data)
        try handle?.synchronize()
        size += Int64(data.count)
    }

    /// Closes the file.
    func close() {
        try? handle?.close()
        handle = nil
    }
}
