import CivilCalendar

/// Text conversions for `timestamptz`, exact to the microsecond PostgreSQL stores.
///
/// Hand-written rather than `DateFormatter`: it is exact, allocation-light and independent of locale.
public enum PostgresTimestamp {
    /// Microseconds since 1970-01-01T00:00:00Z formatted as ISO text in UTC (`2026-03-01 12:00:00.000001+00`).
    public static func format(microseconds: Int64) -> String {
        let (secondsOfEpoch, micros) = floorDivide(microseconds, 1_000_000)
        let (days, secondsOfDay) = floorDivide(secondsOfEpoch, 86_400)
        let (year, month, day) = CivilCalendar.date(daysSinceEpoch: days)
        let hour = secondsOfDay / 3600
        let minute = secondsOfDay % 3600 / 60
        let second = secondsOfDay % 60
        var text = year > 0 ? pad(year, 4) : pad(1 - year, 4)
        text += "-" + pad(month, 2) + "-" + pad(day, 2) + " " + pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2)
        if micros != 0 { text += "." + pad(micros, 6) }
        text += "+00"
        if year <= 0 { text += " BC" }
        return text
    }

    /// Parses PostgreSQL's ISO output (`timestamptz`, `timestamp` read as UTC, or `date`) into
    /// microseconds since the epoch; nil for `infinity` or anything else it does not recognise.
    public static func parse(_ text: String) -> Int64? {
        var bytes = Array(text.utf8)
        var bc = false
        if bytes.count > 3, bytes.suffix(3).elementsEqual(" BC".utf8) {
            bc = true
            bytes.removeLast(3)
        }
        var i = 0
        func number(minDigits: Int, maxDigits: Int) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while i < bytes.count, count < maxDigits, bytes[i] >= 48, bytes[i] <= 57 {
                value = value * 10 + Int64(bytes[i] - 48)
                i += 1
                count += 1
            }
            return count >= minDigits ? value : nil
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == c else { return false }
            i += 1
            return true
        }
        guard var year = number(minDigits: 4, maxDigits: 7), expect(45),
            let month = number(minDigits: 2, maxDigits: 2), expect(45),
            let day = number(minDigits: 2, maxDigits: 2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        if bc { year = 1 - year }
        var micros = CivilCalendar.daysSinceEpoch(year: year, month: month, day: day) * 86_400_000_000
        if i == bytes.count { return micros }
        guard expect(32) || expect(84),
            let hour = number(minDigits: 2, maxDigits: 2), expect(58),
            let minute = number(minDigits: 2, maxDigits: 2), expect(58),
            let second = number(minDigits: 2, maxDigits: 2),
            hour < 25, minute < 60, second < 61
        else { return nil }
        micros += ((hour * 60 + minute) * 60 + second) * 1_000_000
        if expect(46) {
            let start = i
            guard var fraction = number(minDigits: 1, maxDigits: 6) else { return nil }
            for _ in (i - start)..<6 { fraction *= 10 }
            micros += fraction
        }
        if i == bytes.count { return micros }
        let sign: Int64
        if expect(43) { sign = 1 } else if expect(45) { sign = -1 } else if expect(90), i == bytes.count { return micros } else { return nil }
        guard let offsetHours = number(minDigits: 2, maxDigits: 2) else { return nil }
        var offset = offsetHours * 3600
        if expect(58) {
            guard let m = number(minDigits: 2, maxDigits: 2) else { return nil }
            offset += m * 60
            if expect(58) {
                guard let s = number(minDigits: 2, maxDigits: 2) else { return nil }
                offset += s
            }
        }
        guard i == bytes.count else { return nil }
        return micros - sign * offset * 1_000_000
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b
        let r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}
