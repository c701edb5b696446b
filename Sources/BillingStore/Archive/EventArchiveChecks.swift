import Foundation
import Postgres

/// Which months `billing-events archive` may take, and the checks that refuse the others.
enum EventArchiveChecks {
    /// A calendar month (UTC) and its partition.
    struct Month: Sendable, Equatable {
        /// `YYYY-MM`.
        var name: String
        /// Its first instant.
        var first: Date
        /// The next month's first instant.
        var next: Date
        /// Its partition in schema `billing`.
        var table: String { "events_" + name.replacingOccurrences(of: "-", with: "_") }

        /// The month called `name` (`YYYY-MM`), if it is one.
        init?(name: String) {
            let parts = name.split(separator: "-")
            guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
                (1...12).contains(month)
            else { return nil }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            guard let first = calendar.date(from: DateComponents(year: year, month: month, day: 1)),
                let next = calendar.date(byAdding: .month, value: 1, to: first)
            else { return nil }
            self.name = name
            self.first = first
            self.next = next
        }
    }

    /// The monthly partitions before `before`, oldest first, after draining the default partition
    /// into its months; throws, naming every month and why, when one is still being written.
    static func archivable(before: Date, quietPeriod: Duration, on connection: isolated PostgresConnection) throws -> [Month] {
        do {
            try EventPartitions.ensure(on: connection)
        } catch  where EventPartitions.gaveUp(error) {
            throw EventArchiveError("nothing was archived: a long query holds the default partition; run the command again", code: .refused)
        }
        let quiet = Date(timeIntervalSinceNow: -Double(quietPeriod.components.seconds))
        let names = try connection.execute(
            """
            SELECT substring(c.relname FROM '^events_(\\d{4}_\\d{2})$') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'billing.events'::regclass AND c.relname ~ '^events_\\d{4}_\\d{2}$' ORDER BY 1
            """
        ).decodeColumn(String.self)
        let months = names.compactMap { Month(name: $0.replacingOccurrences(of: "_", with: "-")) }.filter { $0.first < before }
        var refusals: [String] = []
        for month in months {
            if month.next > quiet {
                refusals.append("\(month.name) is not over for \(quietPeriod.components.seconds / 3600) hours yet")
                continue
            }
            let newest = try connection.execute("SELECT max(received_at) FROM billing.\(identifier: month.table)").first?.decode(Date?.self, at: 0)
            if let newest, newest > quiet {
                refusals.append("\(month.name) is still being written (an event was received at \(newest))")
            } else if let reason = try notApplied(month, on: connection) {
                refusals.append(reason)
            }
        }
        guard refusals.isEmpty else {
            throw EventArchiveError("nothing was archived: " + refusals.joined(separator: "; "), code: .refused)
        }
        return months
    }

    /// Throws unless every projection has applied every event of `month`.
    static func requireApplied(_ month: Month, on connection: isolated PostgresConnection) throws {
        if let reason = try notApplied(month, on: connection) {
            throw EventArchiveError("nothing of \(month.name) was archived: \(reason)", code: .refused)
        }
    }

    private static func notApplied(_ month: Month, on connection: isolated PostgresConnection) throws -> String? {
        let row = try connection.execute(
            """
            SELECT (SELECT count(*) FROM billing.projection_checkpoints WHERE name = ANY(\(Projection.all.map(\.name))::text[]))::int8,
                   (SELECT count(*) FROM billing.\(identifier: month.table) e
                    WHERE EXISTS (SELECT 1 FROM billing.projection_checkpoints c
                                  WHERE c.name = ANY(\(Projection.all.map(\.name))::text[])
                                    AND (e.transaction_id, e.position) > (c.transaction_id, c.position)))::int8
            """
        ).rows[0]
        let (projections, behind) = try row.decode((Int64, Int64).self)
        if projections < Projection.all.count { return "\(month.name): not every projection has run yet (run serve with the projector role)" }
        if behind > 0 { return "\(month.name): \(behind) events are not applied by every projection yet" }
        return nil
    }

    /// The columns of `billing.events`, in table order.
    static func logColumns(on connection: isolated PostgresConnection) throws -> [String] {
        try connection.execute(
            """
            SELECT attname::text FROM pg_attribute WHERE attrelid = 'billing.events'::regclass AND attnum > 0 AND NOT attisdropped
            ORDER BY attnum
            """
        ).decodeColumn(String.self)
    }
}
