/// Where one record's bytes are in the buffer being split, and the line it starts on.
public struct BackfillRecordSpan: Sendable, Equatable {
    /// The record's bytes (blank space around it and a line's `\r` excluded).
    public var range: Range<Int>
    /// The 1-based line of its first byte.
    public var line: Int

    /// Creates a span.
    public init(range: Range<Int>, line: Int) {
        self.range = range
        self.line = line
    }
}

/// Finds record boundaries in a byte stream that arrives in pieces, without parsing the records:
/// lines of NDJSON, elements of a JSON array, records of CSV (a quoted field may span lines).
///
/// The caller keeps one growing buffer: it appends what it read, calls ``split(_:isEnd:)``, copies
/// out the records, and may then drop the bytes before ``consumed`` (telling ``discard(_:)``).
/// Scanning resumes where it stopped, so a long record is examined once, however it is split.
public struct BackfillSplitter: Sendable {
    private enum ArrayPhase: Sendable {
        case start
        case beforeElement(first: Bool)
        case inElement, afterElement, done
    }

    /// The layout being split.
    public let format: BackfillFormat
    /// Bytes before this offset belong to records already returned (or to blank space).
    public private(set) var consumed = 0
    private var scanned = 0
    private var line = 1
    private var recordLine = 1
    // JSON array and CSV scanning state.
    private var phase = ArrayPhase.start
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var scalar = false

    /// A splitter for `format`.
    public init(format: BackfillFormat) {
        self.format = format
    }

    /// Where the input's structure broke, if it did: the records before it were returned, nothing
    /// after it will be.
    public private(set) var failure: BackfillFileError?

    /// Returns the records that are complete in `buffer`; with `isEnd`, the buffer holds the rest of
    /// the input and a trailing record without its terminator counts too. Stops at a break in the
    /// structure (see ``failure``).
    public mutating func split(_ buffer: [UInt8], isEnd: Bool) -> [BackfillRecordSpan] {
        var records: [BackfillRecordSpan] = []
        guard failure == nil else { return records }
        switch format {
        case .ndjson: splitLines(buffer, isEnd: isEnd, quoted: false, into: &records)
        case .csv: splitLines(buffer, isEnd: isEnd, quoted: true, into: &records)
        case .json:
            do { try splitArray(buffer, isEnd: isEnd, into: &records) } catch { failure = error }
        }
        if isEnd, format == .csv, inString {
            failure = BackfillFileError("a quoted CSV field is never closed", line: recordLine)
        }
        return records
    }

    /// The caller removed the first `count` bytes (at most ``consumed``) from its buffer.
    public mutating func discard(_ count: Int) {
        precondition(count <= consumed, "discarding bytes of an unfinished record")
        consumed -= count
        scanned -= count
    }

    /// Lines (NDJSON), or CSV records whose line breaks inside quotes do not end them.
    private mutating func splitLines(_ buffer: [UInt8], isEnd: Bool, quoted: Bool, into records: inout [BackfillRecordSpan]) {
        buffer.withUnsafeBufferPointer { bytes in
            var index = scanned
            while index < bytes.count {
                let byte = bytes[index]
                if quoted, byte == UInt8(ascii: "\"") {
                    inString.toggle()
                } else if byte == 10 {
                    if !quoted || !inString {
                        emit(consumed..<index, in: bytes, into: &records)
                        consumed = index + 1
                        recordLine = line + 1
                    }
                    line += 1
                }
                index += 1
            }
            scanned = index
            if isEnd, consumed < bytes.count, !(quoted && inString) {
                emit(consumed..<bytes.count, in: bytes, into: &records)
                consumed = bytes.count
            }
        }
    }

    /// Adds the record in `range` with surrounding blank space removed; a blank line is skipped.
    private func emit(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>, into records: inout [BackfillRecordSpan]) {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, Self.isBlank(bytes[lower]) { lower += 1 }
        while upper > lower, Self.isBlank(bytes[upper - 1]) { upper -= 1 }
        if lower < upper { records.append(BackfillRecordSpan(range: lower..<upper, line: recordLine)) }
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 13 || byte == 10 }

    /// Elements of one top-level JSON array.
    private mutating func splitArray(_ buffer: [UInt8], isEnd: Bool, into records: inout [BackfillRecordSpan]) throws(BackfillFileError) {
        var failure: BackfillFileError?
        buffer.withUnsafeBufferPointer { bytes in
            var index = scanned
            scan: while index < bytes.count {
                let byte = bytes[index]
                if case .inElement = phase {
                    if elementEnds(at: byte) {
                        let end = scalar ? index : index + 1
                        records.append(BackfillRecordSpan(range: consumed..<end, line: recordLine))
                        consumed = end
                        phase = .afterElement
                        if scalar { continue scan }  // the terminator is examined as structure
                    }
                    if byte == 10 { line += 1 }
                    index += 1
                    continue
                }
                if byte == 10 { line += 1 }
                if Self.isBlank(byte) {
                    index += 1
                    consumed = index
                    continue
                }
                switch phase {
                case .start:
                    guard byte == UInt8(ascii: "[") else {
                        failure = BackfillFileError("the file does not start with a JSON array", line: line)
                        break scan
                    }
                    phase = .beforeElement(first: true)
                case let .beforeElement(first):
                    if byte == UInt8(ascii: "]"), first {
                        phase = .done
                    } else if byte == UInt8(ascii: "]") || byte == UInt8(ascii: ",") {
                        failure = BackfillFileError("an array element is missing", line: line)
                        break scan
                    } else {
                        startElement(byte)
                        recordLine = line
                        consumed = index
                        phase = .inElement
                        continue scan  // the first byte is part of the element
                    }
                case .afterElement:
                    if byte == UInt8(ascii: ",") {
                        phase = .beforeElement(first: false)
                    } else if byte == UInt8(ascii: "]") {
                        phase = .done
                    } else {
                        failure = BackfillFileError("expected , or ] after an array element", line: line)
                        break scan
                    }
                case .done:
                    failure = BackfillFileError("text after the end of the JSON array", line: line)
                    break scan
                case .inElement:
                    break
                }
                index += 1
                consumed = index
            }
            scanned = index
        }
        if let failure { throw failure }
        guard isEnd else { return }
        switch phase {
        case .done: return
        case .start: throw BackfillFileError("the file is empty", line: line)
        default: throw BackfillFileError("the JSON array is not closed", line: line)
        }
    }

    /// Sets up scanning of an element whose first byte is `byte`.
    private mutating func startElement(_ byte: UInt8) {
        depth = 0
        inString = false
        escaped = false
        scalar = byte != UInt8(ascii: "{") && byte != UInt8(ascii: "[") && byte != UInt8(ascii: "\"")
    }

    /// Advances the element scan over `byte`; true when the element ends with it (containers and
    /// strings) or before it (other scalars).
    private mutating func elementEnds(at byte: UInt8) -> Bool {
        if scalar {
            return byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || Self.isBlank(byte)
        }
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
                return depth == 0
            }
            return false
        }
        switch byte {
        case UInt8(ascii: "\""): inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            depth -= 1
            return depth == 0
        default: break
        }
        return false
    }
}
