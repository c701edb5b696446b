import CivilCalendar
import Foundation
import Testing

@Suite struct CivilCalendarTests {
    /// Every day of four centuries around the epoch (leap years, the 1900 and 2100 non-leap
    /// years, 2000) agrees with Foundation's Gregorian calendar, both ways.
    @Test func daysAgreeWithFoundationsGregorianCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        for days in stride(from: Int64(-40_000), through: 110_000, by: 7) {
            let date = Date(timeIntervalSince1970: Double(days) * 86_400)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let (year, month, day) = CivilCalendar.date(daysSinceEpoch: days)
            #expect([year, month, day] == [parts.year, parts.month, parts.day].map { Int64($0!) }, "\(days)")
            #expect(CivilCalendar.daysSinceEpoch(year: year, month: month, day: day) == days)
        }
    }

    @Test func monthLengthsAndYearsBeforeTheCommonEra() {
        #expect(CivilCalendar.daysInMonth(year: 2024, month: 2) == 29)
        #expect(CivilCalendar.daysInMonth(year: 1900, month: 2) == 28)
        #expect(CivilCalendar.daysInMonth(year: 2000, month: 2) == 29)
        #expect(CivilCalendar.daysInMonth(year: 2026, month: 4) == 30)
        // 1 BC (year 0) is a leap year in the proleptic calendar; its last day is the day before 1 AD.
        #expect(CivilCalendar.daysInMonth(year: 0, month: 2) == 29)
        #expect(CivilCalendar.daysSinceEpoch(year: 1, month: 1, day: 1) - CivilCalendar.daysSinceEpoch(year: 0, month: 12, day: 31) == 1)
        #expect(CivilCalendar.daysSinceEpoch(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilCalendar.date(daysSinceEpoch: -1) == (1969, 12, 31))
    }
}
