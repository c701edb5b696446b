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
            try connection.execute(derivePayments(Array(payments), schema: schema))
        }
    }

    private static func time(_ micros: Int64) -> String { PostgresTimestamp.format(microseconds: micros) }

    /// `a, b, c`.
    private static func list(_ parts: [PostgresQuery]) -> PostgresQuery { PostgresQuery.joined(parts, separator: ", ") }

    /// The parts of an `INSERT … SELECT … FROM unnest(arrays) AS u(names)`: per column, the target
    /// column, the expression over `u` that fills it, and the bound array it comes from (none for a
    /// column computed from the others).
    private struct Unnest {
        var columns: [PostgresQuery] = []
        var selects: [PostgresQuery] = []
        var names: [PostgresQuery] = []
        var arrays: [PostgresQuery] = []

        /// A column filled from its own array, `u.<name>::<type>`.
        mutating func add(_ column: String, from name: String, _ array: some PostgresEncodable, as type: SQLType? = nil) {
            columns.append("\(identifier: column)")
            selects.append(type.map { "u.\(identifier: name)::\($0.sql)" } ?? "u.\(identifier: name)")
            names.append("\(identifier: name)")
            arrays.append("\(array)")
        }

        /// A column filled by an expression over `u`.
        mutating func add(_ column: String, select: PostgresQuery) {
            columns.append("\(identifier: column)")
            selects.append(select)
        }

        /// `INSERT INTO target (columns) SELECT selects FROM unnest(arrays) AS u(names)`.
        func insert(into target: PostgresQuery) -> PostgresQuery {
            "INSERT INTO \(target) (\(list(columns))) SELECT \(list(selects)) FROM unnest(\(list(arrays))) AS u(\(list(names)))"
        }
    }

    /// `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE` that replaces the register only for a
    /// greater version and always widens first-seen / updated.
    private static func upsert(_ rows: [Row], table: ReadModelTable, register: ReadModelRegister?, schema: String) -> PostgresQuery {
        var unnest = Unnest()
        unnest.add("id", from: "id", rows.map(\.id))
        unnest.add("provider", from: "provider", rows.map(\.write.provider.rawValue))
        unnest.add("environment", from: "environment", rows.map(\.write.environment.rawValue))
        unnest.add("provider_id", from: "provider_id", rows.map(\.write.providerID))
        unnest.add("first_seen_at", from: "first_seen", rows.map { time($0.firstSeen) }, as: .timestamptz)
        unnest.add("updated_at", from: "updated", rows.map { time($0.updated) }, as: .timestamptz)
        var sets: [PostgresQuery] = [
            "first_seen_at = LEAST(t.first_seen_at, excluded.first_seen_at)", "updated_at = GREATEST(t.updated_at, excluded.updated_at)",
        ]
        // created_at: the provider's creation time when the register that holds it says so, else first seen.
        var created: PostgresQuery = "u.first_seen::timestamptz"
        var currentCreated: PostgresQuery = "t.provider_created_at"
        if let register {
            let version = register.versionColumns
            unnest.add(version[0].name, from: "v_as_of", rows.map { time($0.write.version.asOf) }, as: .timestamptz)
            unnest.add(version[1].name, from: "v_rank", rows.map(\.write.version.rank), as: .integer)
            unnest.add(version[2].name, from: "v_event_id", rows.map(\.write.version.eventID))
            for (index, column) in register.columns.enumerated() {
                unnest.add(column.name, from: "c\(index)", rows.map { value($0.write.values[column.name]) }, as: column.type)
                if column.name == "provider_created_at" {
                    created = "COALESCE(u.\(identifier: "c\(index)")::timestamptz, u.first_seen::timestamptz)"
                    currentCreated = "CASE WHEN \(newer(register)) THEN excluded.provider_created_at ELSE t.provider_created_at END"
                }
            }
            for column in (version + register.columns).map(\.name) {
                sets.append(
                    "\(identifier: column) = CASE WHEN \(newer(register)) THEN excluded.\(identifier: column) ELSE t.\(identifier: column) END")
            }
        }
        unnest.add("created_at", select: created)
        sets.append("created_at = COALESCE(\(currentCreated), LEAST(t.first_seen_at, excluded.first_seen_at))")
        let insert = unnest.insert(into: "\(identifier: schema).\(identifier: table.rawValue) AS t")
        return "\(insert) ON CONFLICT (id) DO UPDATE SET \(list(sets))"
    }

    /// Appends every write of `register` to `versionTable` as it came (not merged), keyed by row,
    /// register and event, so replaying the log adds nothing twice.
    private static func appendVersions(
        _ writes: [ReadModelWrite], register: ReadModelRegister, into versionTable: String, schema: String
    ) -> PostgresQuery {
        var unnest = Unnest()
        unnest.add("id", from: "id", writes.map(\.id))
        unnest.add("register", from: "register", writes.map { _ in register.name })
        unnest.add("as_of", from: "as_of", writes.map { time($0.version.asOf) }, as: .timestamptz)
        unnest.add("rank", from: "rank", writes.map(\.version.rank), as: .integer)
        unnest.add("event_id", from: "event_id", writes.map(\.version.eventID))
        for (index, column) in register.columns.enumerated() {
            unnest.add(column.name, from: "c\(index)", writes.map { value($0.values[column.name]) }, as: column.type)
        }
        let insert = unnest.insert(into: "\(identifier: schema).\(identifier: versionTable)")
        return "\(insert) ON CONFLICT (id, register, event_id) DO NOTHING"
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
    private static func newer(_ register: ReadModelRegister) -> PostgresQuery {
        let version = register.versionColumns.map(\.name)
        let (asOf, rank, event) = (version[0], version[1], version[2])
        return """
            (t.\(identifier: asOf) IS NULL OR (excluded.\(identifier: asOf), excluded.\(identifier: rank), excluded.\(identifier: event)) \
            > (t.\(identifier: asOf), t.\(identifier: rank), t.\(identifier: event)))
            """
    }

    /// Derived payment columns, recomputed from the row and its refunds so they commute too:
    /// refunded = the greater of the provider's figure and the sum of distinct succeeded refunds;
    /// status from the provider's status, moved to (partially) refunded by that amount;
    /// refundable = the provider's figure capped by amount − refunded, 0 unless succeeded.
    private static func derivePayments(_ ids: [UUID], schema: String) -> PostgresQuery {
        """
        UPDATE \(identifier: schema).payments p SET
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
                                (SELECT sum(r.amount) FROM \(identifier: schema).refunds r WHERE r.payment_id = q.id AND r.status = 'succeeded')) AS refunded
                FROM \(identifier: schema).payments q WHERE q.id = ANY(\(ids)::uuid[])
            ) x
        ) d
        WHERE p.id = d.id
        """
    }
}
