import BillingCore
import Foundation
import Postgres
import TestSupport
import Testing

@testable import BillingStore

@Suite struct ProjectionConvergenceTests {
    /// Folds `events` into the scratch tables in batches of the given sizes (cycled).
    private func apply(
        _ events: [(event: NormalizedEvent, delivery: IncomingDelivery)], batchSizes: [Int], on connection: isolated PostgresConnection
    ) throws {
        var index = 0
        var batch = 0
        while index < events.count {
            let size = batchSizes[batch % batchSizes.count]
            let slice = events[index..<min(index + size, events.count)]
            let writes = try slice.flatMap { try ReadModelFold.writes(for: $0.event, body: $0.delivery.body) }
            try ReadModelWriter.apply(writes, tables: ReadModelTable.allCases, schema: "pg_temp", on: connection)
            index += size
            batch += 1
        }
    }

    private func reset(on connection: isolated PostgresConnection) throws {
        let tables = ReadModelTable.allCases.map(\.rawValue) + ReadModelTable.allCases.compactMap(\.versionTable)
        try connection.simpleQuery(unsafeSQL: "TRUNCATE " + tables.map { "pg_temp.\($0)" }.joined(separator: ", "))
    }

    @Test func anyDeliveryOrderAndAnyDuplicatesGiveIdenticalReadModels() async throws {
        try await withMigratedPool { pool in
            try await pool.withConnection { connection in
                try await connection.perform { connection in
                    try ProjectionRebuilder.createScratchTables(ReadModelTable.allCases, on: connection)
                    var rowsSeen = 0
                    for seed in 1...200 {
                        var generator = HistoryGenerator(seed: UInt64(seed))
                        let history = try generator.history(entities: generator.int(3...10)).map(intake)
                        try reset(on: connection)
                        try apply(history, batchSizes: [1], on: connection)
                        let reference = try dumpReadModels(schema: "pg_temp", on: connection)
                        rowsSeen += reference.count

                        var shuffled = history
                        for _ in 0..<generator.int(0...history.count) {
                            shuffled.append(history[generator.int(0...(history.count - 1))])
                        }
                        for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                            shuffled.swapAt(i, generator.int(0...i))
                        }
                        try reset(on: connection)
                        try apply(shuffled, batchSizes: (0..<4).map { _ in generator.int(1...15) }, on: connection)
                        let converged = try dumpReadModels(schema: "pg_temp", on: connection)
                        #expect(converged == reference, "seed \(seed): \(Set(converged).symmetricDifference(reference).sorted().prefix(4))")
                    }
                    #expect(rowsSeen > 2000)
                }
            }
        }
    }
}
