import BillingCore
import Foundation
import Postgres

/// Writes folded events into read-model tables: one set-based upsert per table and register per
/// batch. Writes to one row are first merged in memory (greatest version wins, first-seen is the
/// minimum, updated the maximum), exactly as the SQL merges them with the row already stored, so
/// the outcome does not depend on how events are split into batches or in which order they come.
enum ReadModelWriter {
    /// One merged row of one register (or of plain "names the entity" writes).
    private struct Row {
        var id: UUID
        var write: ReadModelWrite
        var firstSeen: Int64
        var updated: Int64
    }

    /// Applies `writes` to the tables in `tables`, in `schema` (`billing`, or `pg_temp` during a
    /// rebuild), then recomputes the derived payment columns of every payment touched.
    static func apply(
        _ writes: [ReadModelWrite], tables: [ReadModelTable], schema: String, on connection: isolated PostgresConnection
    ) throws {
        var groups: [String: [UUID: Row]] = [:]
        for write in writes where tables.contains(write.table) {
            let key = write.table.rawValue + "/" + (write.register?.name ?? "")
            let id = write.id
            if var row = groups[key]?[id] {
                row.firstSeen = min(row.firstSeen, write.version.asOf)
                row.updated = max(row.updated, write.version.asOf)
                if write.version > row.write.version { row.write = write }
                groups[key]![id] = row
            } else {
                groups[key, default: [:]][id] = Row(id: id, write: write, firstSeen: write.version.asOf, updated: write.version.asOf)
            }
        }
        for table in tables {
            for register in [nil] + table.registers {
                guard let rows = groups[table.rawValue + "/" + (register?.name ?? "")], !rows.isEmpty else { continue }
                let sorted = rows.values.sorted { UUID.bytewiseLess($0.id, $1.id) }
                try connection.execute(upsert(sorted, table: table, register: register, schema: schema))
            }
        }
        let versions = Dictionary(grouping: writes.filter { $0.register != nil }, by: { $0.register! })
        for table in tables {
            guard let versionTable = table.versionTable else { continue }
            for register in table.registers {
                guard let written = versions[register] else { continue }
                try connection.execute(appendVersions(written, register: register, into: versionTable, schema: schema))
            }
        }
        let payments = Set(groups.filter { $0.key.hasPrefix("payments/") }.values.flatMap(\.keys))
        if tables.contains(.payments), !payments.isEmpty {
            try connection.execute(PostgresQuery(unsafeSQL: derivePaymentsSQL(schema: schema), binds: [Array(payments).postgresBind]))
        }
    }

    private static func time(_ micros: Int64) -> String { PostgresTimestamp.format(microseconds: micros) }

    /// `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE` that replaces the register only for a
    /// greater version and always widens first-seen / updated.
    private static func upsert(_ rows: [Row], table: ReadModelTable, register: ReadModelRegister?, schema: String) -> PostgresQuery {
        var columns = ["id", "provider", "environment", "provider_id", "first_seen_at", "updated_at", "created_at"]
        var selects = [
            "u.id", "u.provider", "u.environment", "u.provider_id", "u.first_seen::timestamptz",
            "u.updated::timestamptz", "u.first_seen::timestamptz",
        ]
        var names = ["id", "provider", "environment", "provider_id", "first_seen", "updated"]
        var binds = [
            rows.map(\.id).postgresBind, rows.map(\.write.provider.rawValue).postgresBind,
            rows.map(\.write.environment.rawValue).postgresBind, rows.map(\.write.providerID).postgresBind,
            rows.map { time($0.firstSeen) }.postgresBind, rows.map { time($0.updated) }.postgresBind,
        ]
        var sets = [
            "first_seen_at = LEAST(t.first_seen_at, excluded.first_seen_at)",
            "updated_at = GREATEST(t.updated_at, excluded.updated_at)",
        ]
        if let register {
            let version = register.versionColumns.map(\.name)
            columns += version
            selects += ["u.v_as_of::timestamptz", "u.v_rank::integer", "u.v_event_id"]
            names += ["v_as_of", "v_rank", "v_event_id"]
            binds += [
                rows.map { time($0.write.version.asOf) }.postgresBind, rows.map(\.write.version.rank).postgresBind,
                rows.map(\.write.version.eventID).postgresBind,
            ]
            for (index, column) in register.columns.enumerated() {
                columns.append(column.name)
                selects.append("u.c\(index)::\(column.type)")
                names.append("c\(index)")
                binds.append(rows.map { value($0.write.values[column.name]) }.postgresBind)
            }
            for column in version + register.columns.map(\.name) {
                sets.append("\(column) = CASE WHEN \(newer(register)) THEN excluded.\(column) ELSE t.\(column) END")
            }
        }
        // created_at: the provider's creation time when the register that holds it says so, else first seen.
        let providerCreated = register?.columns.firstIndex { $0.name == "provider_created_at" }
        selects[6] = providerCreated.map { "COALESCE(u.c\($0)::timestamptz, u.first_seen::timestamptz)" } ?? selects[6]
        let currentCreated =
            providerCreated == nil
            ? "t.provider_created_at" : "CASE WHEN \(newer(register!)) THEN excluded.provider_created_at ELSE t.provider_created_at END"
        sets.append("created_at = COALESCE(\(currentCreated), LEAST(t.first_seen_at, excluded.first_seen_at))")
        let parameters = binds.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        let sql = """
            INSERT INTO \(schema).\(table.rawValue) AS t (\(columns.joined(separator: ", ")))
            SELECT \(selects.joined(separator: ", ")) FROM unnest(\(parameters)) AS u(\(names.joined(separator: ", ")))
            ON CONFLICT (id) DO UPDATE SET \(sets.joined(separator: ", "))
            """
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// Appends every write of `register` to `versionTable` as it came (not merged), keyed by row,
    /// register and event, so replaying the log adds nothing twice.
    private static func appendVersions(
        _ writes: [ReadModelWrite], register: ReadModelRegister, into versionTable: String, schema: String
    ) -> PostgresQuery {
        var columns = ["id", "register", "as_of", "rank", "event_id"]
        var selects = ["u.id", "u.register", "u.as_of::timestamptz", "u.rank::integer", "u.event_id"]
        var binds = [
            writes.map(\.id).postgresBind, writes.map { _ in register.name }.postgresBind,
            writes.map { time($0.version.asOf) }.postgresBind, writes.map(\.version.rank).postgresBind,
            writes.map(\.version.eventID).postgresBind,
        ]
        for (index, column) in register.columns.enumerated() {
            columns.append(column.name)
            selects.append("u.c\(index)::\(column.type)")
            binds.append(writes.map { value($0.values[column.name]) }.postgresBind)
        }
        let names = ["id", "register", "as_of", "rank", "event_id"] + register.columns.indices.map { "c\($0)" }
        let parameters = binds.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO \(schema).\(versionTable) (\(columns.joined(separator: ", ")))
                SELECT \(selects.joined(separator: ", ")) FROM unnest(\(parameters)) AS u(\(names.joined(separator: ", ")))
                ON CONFLICT (id, register, event_id) DO NOTHING
                """, binds: binds)
    }

    private static func value(_ value: ReadModelValue?) -> String? {
        switch value {
        case nil: nil
        case let .text(text)?: text
        case let .time(micros)?: time(micros)
        case let .id(id)?: id.postgresText
        }
    }

    /// True when the incoming row's version of `register` is greater than the stored one (or there is none).
    private static func newer(_ register: ReadModelRegister) -> String {
        let version = register.versionColumns.map(\.name)
        let (asOf, rank, event) = (version[0], version[1], version[2])
        return "(t.\(asOf) IS NULL OR (excluded.\(asOf), excluded.\(rank), excluded.\(event)) > (t.\(asOf), t.\(rank), t.\(event)))"
    }

    /// Derived payment columns, recomputed from the row and its refunds so they commute too:
    /// refunded = the greater of the provider's figure and the sum of distinct succeeded refunds;
    /// status from the provider's status, moved to (partially) refunded by that amount;
    /// refundable = the provider's figure capped by amount − refunded, 0 unless succeeded.
    private static func derivePaymentsSQL(schema: String) -> String {
        """
        UPDATE \(schema).payments p SET
            amount_refunded = d.refunded,
            status = d.status,
            amount_refundable = CASE WHEN d.status IN ('succeeded', 'partially_refunded')
                THEN LEAST(p.provider_amount_refundable, GREATEST(p.amount - COALESCE(d.refunded, 0), 0)) ELSE 0 END
        FROM (
            SELECT x.id, x.refunded,
                   CASE WHEN x.base IN ('succeeded', 'partially_refunded', 'refunded') AND COALESCE(x.refunded, 0) > 0
                        THEN CASE WHEN x.amount IS NOT NULL AND x.refunded >= x.amount THEN 'refunded' ELSE 'partially_refunded' END
                        ELSE x.base END AS status
            FROM (
                SELECT q.id, q.amount, billing.payment_status(q.provider_status) AS base,
                       GREATEST(q.provider_amount_refunded,
                                (SELECT sum(r.amount) FROM \(schema).refunds r WHERE r.payment_id = q.id AND r.status = 'succeeded')) AS refunded
                FROM \(schema).payments q WHERE q.id = ANY($1::uuid[])
            ) x
        ) d
        WHERE p.id = d.id
        """
    }
}
