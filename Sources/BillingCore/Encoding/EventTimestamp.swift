import CivilCalendar
import Foundation

/// Parses provider timestamps to microsecond resolution (the resolution of `timestamptz`).
///
/// ISO 8601 / RFC 3339: `2026-05-22T14:32:08.412Z`, any number of fraction digits (truncated to
/// microseconds), `Z` or a `±HH:MM` / `±HHMM` / `±HH` offset; without an offset the time is UTC.
/// Unix seconds: an integer or decimal number (`1716382328`, `1716382328.5`).
public enum EventTimestamp {
    /// Microseconds since 1970 for an ISO 8601 text, or nil when it is not one.
    public static func microseconds(iso8601 text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            index += count
            return value
        }
        func take(_ allowed: Set<UInt8>) -> Bool {
            guard index < bytes.count, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), take([45]), let month = digits(2), take([45]), let day = digits(2),
            (1...12).contains(month), day >= 1, day <= CivilCalendar.daysInMonth(year: year, month: month),
            take([84, 116, 32]),  // T, t, space
            let hour = digits(2), take([58]), let minute = digits(2), hour < 24, minute < 60
        else { return nil }
        var second: Int64 = 0
        var micros: Int64 = 0
        if take([58]) {
            guard let value = digits(2), value < 60 else { return nil }
            second = value
            if take([46, 44]) {  // . or ,
                var scale: Int64 = 100_000
                var count = 0
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    micros += Int64(bytes[index] - 48) * scale
                    scale /= 10
                    index += 1
                    count += 1
                }
                guard count > 0 else { return nil }
            }
        }
        var offsetSeconds: Int64 = 0
        if take([90, 122]) {  // Z, z
        } else if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
            let sign: Int64 = bytes[index] == 45 ? -1 : 1
            index += 1
            guard let offsetHours = digits(2), offsetHours < 24 else { return nil }
            var offsetMinutes: Int64 = 0
            if index < bytes.count {
                _ = take([58])
                guard let value = digits(2), value < 60 else { return nil }
                offsetMinutes = value
            }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard index == bytes.count else { return nil }
        let days = CivilCalendar.daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000 + micros
    }

    /// Microseconds since 1970 for unix seconds written as a JSON number or numeric string.
    public static func microseconds(unixSeconds text: String) -> Int64? {
        guard let amount = DecimalAmount(text), !amount.negative else { return nil }
        // × 10^6, then drop any digits below the microsecond.
        guard let whole = amount.shifted(by: -6).description.split(separator: ".").first, whole.utf8.count <= 18 else {
            return nil
        }
        return Int64(whole)
    }

    /// The `Date` for a microsecond count (exact to the microsecond when bound to PostgreSQL).
    public static func date(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// Parses ISO 8601 text to a `Date`.
    public static func parse(iso8601 text: String) -> Date? {
        microseconds(iso8601: text).map(date(microseconds:))
    }

    /// Parses unix seconds to a `Date`.
    public static func parse(unixSeconds text: String) -> Date? {
        microseconds(unixSeconds: text).map(date(microseconds:))
    }
}
