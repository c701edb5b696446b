import Foundation

/// Builds `COPY … FROM STDIN (FORMAT binary)` data: no text escaping, `bytea` sent as-is and no
/// server-side parsing of numbers and times, which matters for rows that carry kilobytes of body.
///
/// Call ``beginRow(fieldCount:)`` and then one `append` per column in the statement's column order;
/// ``finish()`` adds the trailer. Each value is written in the binary form of its column's type.
public struct PostgresBinaryCopy: Sendable {
    /// The encoded data so far.
    public private(set) var bytes: [UInt8]

    /// Starts the data with the binary COPY signature and an empty header.
    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity + 19)
        bytes.append(contentsOf: Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00])
        appendInteger(Int32(0))  // flags: no OIDs
        appendInteger(Int32(0))  // header extension length
    }

    /// Starts a row of `fieldCount` columns.
    public mutating func beginRow(fieldCount: Int) {
        appendInteger(Int16(fieldCount))
    }

    /// Ends the data (the row count is not part of the format).
    public mutating func finish() {
        appendInteger(Int16(-1))
    }

    /// A NULL of any type.
    public mutating func appendNull() {
        appendInteger(Int32(-1))
    }

    /// `text`/`varchar` (UTF-8), or NULL.
    public mutating func append(_ text: String?) {
        guard var utf8 = text else { return appendNull() }
        utf8.withUTF8 { append(bytes: $0) }
    }

    /// `bytea`, or the raw value of any column whose binary form the caller already built.
    public mutating func append(bytes value: some Collection<UInt8>) {
        appendInteger(Int32(value.count))
        bytes.append(contentsOf: value)
    }

    /// `int8`.
    public mutating func append(_ value: Int64) {
        appendInteger(Int32(8))
        appendInteger(value)
    }

    /// `int4`.
    public mutating func append(_ value: Int32) {
        appendInteger(Int32(4))
        appendInteger(value)
    }

    /// `uuid`.
    public mutating func append(_ value: UUID) {
        appendInteger(Int32(16))
        withUnsafeBytes(of: value.uuid) { bytes.append(contentsOf: $0) }
    }

    /// `timestamptz` (or `timestamp`) from microseconds since 1970, or NULL.
    public mutating func append(timestampMicroseconds micros: Int64?) {
        guard let micros else { return appendNull() }
        // The binary form counts microseconds from 2000-01-01.
        append(micros - 946_684_800_000_000)
    }

    /// `timestamptz` from a date (rounded to the microsecond), or NULL.
    public mutating func append(_ date: Date?) {
        append(timestampMicroseconds: date.map { Int64(($0.timeIntervalSince1970 * 1_000_000).rounded()) })
    }

    private mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
