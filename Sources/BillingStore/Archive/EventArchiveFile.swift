import Crypto
import Foundation
import Postgres

/// The archive file of one month of the log: gzip-compressed text that `zcat` shows.
///
///     billing-events archive 1
///     month 2025-01
///     section events position transaction_id id provider …
///     <one row per event in PostgreSQL's COPY text format, by position>
///     \.
///     section snapshot.customers id provider …
///     …
///     \.
///     sha256 <hex of every byte above this line>
///
/// Rows are exactly what PostgreSQL prints for each column (bytea as hex, timestamps in UTC with
/// microseconds, numeric as written), so `COPY … FROM` brings them back byte-identical. A row
/// never holds a bare line feed (COPY escapes it) and a value `\.` is written `\\.`, so `\.` alone
/// on a line ends a section unambiguously.
enum EventArchiveFile {
    /// The first line.
    static let magic = "billing-events archive 1"

    /// One section: its name and columns.
    struct Section: Equatable {
        var name: String
        var columns: [String]
    }

    /// Writes an archive to `path` through a temporary name, renamed when complete.
    final class Writer {
        private let path: String
        private let handle: FileHandle
        private let deflater: GzipDeflater
        private var hash = SHA256()
        private var pending: [UInt8] = []
        private var compressed: [UInt8] = []
        /// Compressed bytes written so far.
        private(set) var bytes: Int64 = 0

        /// Starts the file of `month` (`YYYY-MM`).
        init(path: String, month: String) throws {
            self.path = path
            guard FileManager.default.createFile(atPath: path + ".partial", contents: nil) else {
                throw EventArchiveError("cannot create \(path).partial", code: .failed)
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path + ".partial"))
            deflater = try GzipDeflater()
            try line("\(EventArchiveFile.magic)\nmonth \(month)")
        }

        /// Starts a section.
        func begin(_ section: Section) throws {
            try line("section \(section.name) \(section.columns.joined(separator: " "))")
        }

        /// Appends one row, as PostgreSQL's text output of each column, in COPY text format.
        func row(_ values: [String?]) throws {
            PostgresCopyWriter.appendTextRow(values, to: &pending)
            if pending.count >= 1 << 20 { try flush() }
        }

        /// Ends a section.
        func end() throws { try line("\\.") }

        /// Writes the checksum, ends the gzip stream, syncs and renames the file into place;
        /// returns the checksum.
        func finish() throws -> String {
            try flush()
            let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
            try deflater.deflate(Array("sha256 \(digest)\n".utf8), finish: true, into: &compressed)
            try writeCompressed()
            try handle.synchronize()
            try handle.close()
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
            return digest
        }

        /// Removes the unfinished file.
        func abandon() {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path + ".partial")
        }

        private func line(_ text: String) throws {
            pending.append(contentsOf: text.utf8)
            pending.append(10)
        }

        private func flush() throws {
            hash.update(data: pending)
            try deflater.deflate(pending, into: &compressed)
            pending.removeAll(keepingCapacity: true)
            try writeCompressed()
        }

        private func writeCompressed() throws {
            guard !compressed.isEmpty else { return }
            try handle.write(contentsOf: compressed)
            bytes += Int64(compressed.count)
            compressed.removeAll(keepingCapacity: true)
        }
    }

    /// What a read found: the month, the sections with their row counts, and the checksum.
    struct Contents: Equatable {
        var month: String
        var sections: [(section: Section, rows: Int)]
        var sha256: String

        static func == (lhs: Contents, rhs: Contents) -> Bool {
            lhs.month == rhs.month && lhs.sha256 == rhs.sha256 && lhs.sections.map(\.section) == rhs.sections.map(\.section)
                && lhs.sections.map(\.rows) == rhs.sections.map(\.rows)
        }
    }

    /// Reads and verifies the file at `path` in one streaming pass: the gzip stream must be
    /// whole, every section ended, and the checksum must match the content. `row` receives each
    /// row of each section (its line feed included).
    static func read(_ path: String, row: (Section, ArraySlice<UInt8>) throws -> Void = { _, _ in }) throws -> Contents {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw EventArchiveError("cannot open \(path)") }
        defer { try? handle.close() }
        let inflater = try GzipInflater()
        var hash = SHA256()
        var buffer: [UInt8] = []
        var month: String?
        var sections: [(section: Section, rows: Int)] = []
        var open: Section?
        var sha256: String?
        var lineNumber = 0

        func consume(_ line: ArraySlice<UInt8>) throws {
            lineNumber += 1
            let text = { String(decoding: line.dropLast(), as: UTF8.self) }
            if sha256 != nil { throw EventArchiveError("\(path): content after the checksum at line \(lineNumber)") }
            if let section = open {
                if line.elementsEqual([92, 46, 10]) {
                    open = nil
                } else {
                    sections[sections.count - 1].rows += 1
                    try row(section, line)
                }
                hash.update(data: Array(line))
                return
            }
            let content = text()
            if lineNumber == 1 {
                guard content == magic else {
                    throw EventArchiveError("\(path) is not a billing-events archive (first line \"\(content.prefix(40))\")")
                }
            } else if content.hasPrefix("month ") {
                month = String(content.dropFirst(6))
            } else if content.hasPrefix("section ") {
                let words = content.split(separator: " ").map(String.init)
                guard words.count >= 3 else { throw EventArchiveError("\(path): a section without columns at line \(lineNumber)") }
                open = Section(name: words[1], columns: Array(words[2...]))
                sections.append((open!, 0))
            } else if content.hasPrefix("sha256 ") {
                sha256 = String(content.dropFirst(7))
                let computed = hash.finalize().map { String(format: "%02x", $0) }.joined()
                guard computed == sha256 else { throw EventArchiveError("\(path): the checksum does not match the content (corrupt file)") }
                return
            } else {
                throw EventArchiveError("\(path): unexpected line \(lineNumber)")
            }
            hash.update(data: Array(line))
        }

        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            do {
                try chunk.withUnsafeBytes { try inflater.inflate($0, into: &buffer) }
            } catch {
                throw EventArchiveError("\(path): \(error)")
            }
            var start = 0
            while let newline = buffer[start...].firstIndex(of: 10) {
                try consume(buffer[start...newline])
                start = newline + 1
            }
            buffer.removeFirst(start)
        }
        do {
            try inflater.finish()
        } catch {
            throw EventArchiveError("\(path): \(error)")
        }
        guard buffer.isEmpty, open == nil, let month, let sha256 else { throw EventArchiveError("\(path) ends early (truncated file?)") }
        return Contents(month: month, sections: sections, sha256: sha256)
    }
}
