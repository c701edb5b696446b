import BillingCore
import Foundation
import Postgres
import TestSupport
import Testing

@testable import BillingStore

/// `billing-events archive` and `restore` against real PostgreSQL: months leave the log for
/// verified files, the read models and a rebuild stay equal to the incremental ones, and a restore
/// brings every byte back at the same position.
@Suite struct EventArchiveTests {
    /// 2026-03-10 and 2026-05-12 (UTC), in Unix milliseconds: two whole past months.
    static let march: Int64 = 1_773_100_800_000
    static let may: Int64 = 1_778_544_000_000

    /// Every column of the events of `months`, as text, by position (raw bodies as hex).
    static func rows(_ months: [String], _ pool: PostgresPool) async throws -> [String] {
        try await pool.query(
            """
            SELECT e::text FROM billing.events e
            WHERE to_char(billing.event_time(occurred_at, received_at) AT TIME ZONE 'UTC', 'YYYY-MM') = ANY(\(months)::text[])
            ORDER BY position
            """
        ).decodeColumn(String.self)
    }

    static func readModels(_ pool: PostgresPool) async throws -> [String] {
        try await pool.withConnection { connection in try await connection.perform { try dumpReadModels(schema: "billing", on: $0) } }
    }

    static func rebuildAll(_ pool: PostgresPool) async throws {
        for projection in Projection.all {
            _ = try await ProjectionRebuilder.rebuild(projection, configuration: pool.configuration, batchSize: 41, logger: TestDatabase.logger)
        }
    }

    @Test func archivedMonthsLeaveTheLogAndComeBackByteIdentical() async throws {
        try await withMigratedPool { pool in
            var items: [(event: NormalizedEvent, delivery: IncomingDelivery)] = []
            for (seed, start) in [(UInt64(31), Self.march), (32, Self.may), (33, Int64(Date().timeIntervalSince1970 * 1000) - 60_000)] {
                var generator = HistoryGenerator(seed: seed, start: start, step: 1000)
                items += try generator.history(entities: 24).map(intake)
            }
            items.shuffle()
            try await store(items, in: pool)
            try await withProjector(pool) { try await waitUntilProjected(pool) }
            let models = try await Self.readModels(pool)
            let archivedRows = try await Self.rows(["2026-03", "2026-05"], pool)
            let total = try await pool.query("SELECT count(*)::int8 FROM billing.events").rows[0].decode(Int64.self, at: 0)
            #expect(archivedRows.count > 50 && Int64(archivedRows.count) < total)

            let directory = TestDatabase.makeScratchDirectory()
            let archiver = EventArchiver(configuration: pool.configuration, logger: TestDatabase.logger)
            // The current month is still being written: refused, nothing archived.
            let nextMonth = EventPartitions.month(of: Date().addingTimeInterval(32 * 86_400))
            await #expect(throws: EventArchiveError.self) {
                try await archiver.archive(before: nextMonth, into: directory, quietPeriod: .zero)
            }
            #expect(try await Self.rows(["2026-03", "2026-05"], pool) == archivedRows)

            let archived = try await archiver.archive(before: EventArchiver.firstDay(ofMonth: "2026-06")!, into: directory, quietPeriod: .zero)
            #expect(archived.map(\.month) == ["2026-03", "2026-05"])
            #expect(archived.reduce(0) { $0 + $1.events } == Int64(archivedRows.count))
            #expect(try await Self.rows(["2026-03", "2026-05"], pool).isEmpty)
            let left = try await pool.query(
                "SELECT to_regclass('billing.events_2026_03') IS NULL AND to_regclass('billing.events_2026_05') IS NULL, count(*)::int8 FROM billing.event_keys"
            ).rows[0].decode((Bool, Int64).self)
            #expect(left.0 && left.1 == total)
            let listed = try await pool.perform { try EventPartitions.list(exact: true, on: $0) }
            let march = listed.first { $0.month == EventArchiver.firstDay(ofMonth: "2026-03") }
            #expect(march?.table == nil && march?.archivedEvents == archived.first?.events && march?.archiveFile != nil)
            #expect(listed.contains { $0.table == "events_default" && $0.counted && $0.events == 0 })
            for month in archived {
                let contents = try EventArchiveFile.read(month.file)
                #expect(contents.sha256 == month.sha256 && contents.sections.first?.rows == Int(month.events))
                #expect(contents.sections.contains { $0.section.name == "snapshot.payments" && $0.rows > 0 })
            }

            // Exactly-once holds for archived events: a redelivery is a duplicate at the old position.
            let archivedItem = try #require(items.first { $0.event.occurredAt.map { $0 < EventArchiver.firstDay(ofMonth: "2026-06")! } ?? false })
            let again = try await pool.perform { connection in
                try connection.transaction { try EventIngestor.store(.event(archivedItem.event, archivedItem.delivery), on: connection) }
            }
            guard case .duplicate = again else { throw TestFailure("a redelivered archived event was stored again: \(again)") }

            // The read models did not change; a rebuild (snapshot + the rest of the log) equals them.
            #expect(try await Self.readModels(pool) == models)
            try await Self.rebuildAll(pool)
            #expect(try await Self.readModels(pool) == models)

            // Restore: the same bytes at the same positions; twice changes nothing.
            let restored = try await archiver.restore(archived.map(\.file))
            #expect(restored.map(\.inserted) == archived.map(\.events))
            #expect(try await Self.rows(["2026-03", "2026-05"], pool) == archivedRows)
            let twice = try await archiver.restore(archived.map(\.file))
            #expect(twice.map(\.inserted) == [0, 0])
            #expect(try await Self.rows(["2026-03", "2026-05"], pool) == archivedRows)
            #expect(try await Self.readModels(pool) == models)
            try await Self.rebuildAll(pool)
            #expect(try await Self.readModels(pool) == models)
            let months = try await pool.query(
                "SELECT to_char(month, 'YYYY-MM'), restored_at IS NOT NULL FROM analytics.event_months WHERE archived_at IS NOT NULL ORDER BY 1"
            ).decode((String, Bool).self)
            #expect(months.map(\.0) == ["2026-03", "2026-05"] && months.allSatisfy(\.1))
        }
    }

    @Test func aMonthNotAppliedOrStillReceivingIsRefusedAndACorruptFileRestoresNothing() async throws {
        try await withMigratedPool { pool in
            var generator = HistoryGenerator(seed: 34, start: Self.march, step: 1000)
            try await store(try generator.history(entities: 6).map(intake), in: pool)
            let archiver = EventArchiver(configuration: pool.configuration, logger: TestDatabase.logger)
            let directory = TestDatabase.makeScratchDirectory()
            let april = EventArchiver.firstDay(ofMonth: "2026-04")!
            // No projector has applied the month yet.
            let unapplied = await #expect(throws: EventArchiveError.self) {
                try await archiver.archive(before: april, into: directory, quietPeriod: .zero)
            }
            #expect(unapplied?.code == .refused && unapplied?.message.contains("2026-03") == true)
            try await withProjector(pool) { try await waitUntilProjected(pool) }
            // Events were received a moment ago: the month is still being written for the quiet period.
            let receiving = await #expect(throws: EventArchiveError.self) {
                try await archiver.archive(before: april, into: directory, quietPeriod: .seconds(3600))
            }
            #expect(receiving?.code == .refused && receiving?.message.contains("still being written") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)

            let archived = try await archiver.archive(before: april, into: directory, quietPeriod: .zero)
            let file = try #require(archived.first?.file)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            bytes[bytes.count / 2] ^= 0x55
            let corrupt = file + ".corrupt.gz"
            try bytes.write(to: URL(fileURLWithPath: corrupt))
            #expect(await #expect(throws: EventArchiveError.self) { try await archiver.restore([corrupt]) }?.code == .invalidFile)
            let truncated = file + ".truncated.gz"
            try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: truncated))
            await #expect(throws: EventArchiveError.self) { try await archiver.restore([truncated]) }
            #expect(try await pool.query("SELECT count(*)::int8 FROM billing.events").rows[0].decode(Int64.self, at: 0) == 0)
        }
    }
}

/// A test expectation that cannot be written as `#expect`.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
