import Foundation
import Testing

@testable import Postgres

@Suite struct PostgresTimestampTests {
    @Test(arguments: [
        ("1970-01-01 00:00:00+00", Int64(0)),
        ("2026-11-21 06:38:12.123456+00", Int64(1_795_243_092_123_456)),
        ("2026-11-21 06:38:12.5+00", Int64(1_795_243_092_500_000)),
        ("1969-12-31 23:59:59.999999+00", Int64(-1)),
        ("2000-02-29 12:00:00+00", Int64(951_825_600_000_000)),
        ("2026-11-21 08:38:12+02", Int64(1_795_243_092_000_000)),
        ("2026-11-21 01:08:12-05:30", Int64(1_795_243_092_000_000)),
        ("2026-11-21", Int64(1_795_219_200_000_000)),
    ])
    func parsesPostgresOutput(text: String, micros: Int64) {
        #expect(PostgresTimestamp.parse(text) == micros)
    }

    @Test(arguments: ["infinity", "-infinity", "2026-13-01 00:00:00+00", "2026-11-21 06:38", "garbage", ""])
    func rejectsWhatItCannotRepresent(text: String) {
        #expect(PostgresTimestamp.parse(text) == nil)
    }

    @Test(arguments: [Int64(0), 1, -1, 1_795_243_092_123_456, -62_135_596_800_000_000, 253_402_300_799_999_999])
    func formatAndParseRoundTrip(micros: Int64) {
        let text = PostgresTimestamp.format(microseconds: micros)
        #expect(PostgresTimestamp.parse(text) == micros, "\(text)")
    }

    @Test func formatsLikePostgres() {
        #expect(PostgresTimestamp.format(microseconds: 1_795_243_092_123_456) == "2026-11-21 06:38:12.123456+00")
        #expect(PostgresTimestamp.format(microseconds: 0) == "1970-01-01 00:00:00+00")
        #expect(PostgresTimestamp.format(microseconds: 5) == "1970-01-01 00:00:00.000005+00")
    }
}
