import BillingCore
import Foundation
import Postgres

/// The one Swift home of a `billing.events` row: which columns an appended event fills and with
/// what, for the webhook insert (bound parameters) and the backfill (binary COPY into a staging
/// table, then one merge); and which columns a projector reads back, with their decoder. A column
/// added to the log is added here, and every writer and the reader follow.
enum EventsTable {
    /// One written value, typed as the staging table holds it.
    enum Value {
        case uuid(UUID)
        case text(String?)
        case time(Date?)
        case bytes([UInt8])
        /// Decimal text, stored as `numeric`.
        case numeric(String?)
        /// JSON text, stored as `jsonb`.
        case json(String)
    }

    /// A written column: its name and SQL type.
    struct Column {
        var name: String
        var type: SQLType
        /// The type the staging table gives it: `numeric` and `jsonb` arrive as text, cast by the merge.
        var stagedType: SQLType { type == .numeric || type == .jsonb ? .text : type }
    }

    /// The columns an append writes, in order (``values(_:_:)`` gives one value for each).
    static let written: [Column] =
        ([
            ("id", .uuid), ("provider", .text), ("environment", .text), ("event_type", .text), ("entity_kind", .text),
            ("entity_provider_id", .text), ("customer_provider_id", .text), ("occurred_at", .timestamptz),
            ("as_of", .timestamptz), ("amount", .numeric), ("currency", .text), ("dedupe_key", .text), ("provider_event_id", .text),
            ("body_sha256", .bytea), ("raw_body", .bytea), ("signature_headers", .jsonb), ("secret_fingerprint", .text),
            ("channel", .text), ("source", .text), ("delivery_id", .text), ("delivered_at", .timestamptz),
            ("received_at", .timestamptz),
        ] as [(String, SQLType)]).map { Column(name: $0.0, type: $0.1) }

    /// The values of ``written`` for an event and the delivery that carried it.
    static func values(_ event: NormalizedEvent, _ delivery: IncomingDelivery) -> [Value] {
        [
            .uuid(event.id), .text(event.provider.rawValue), .text(event.environment.rawValue), .text(event.eventType),
            .text(event.entityKind.rawValue), .text(event.entityID), .text(event.customerID), .time(event.occurredAt),
            .time(event.asOf), .numeric(event.amountText), .text(event.currency), .text(event.dedupeKey), .text(event.providerEventID),
            .bytes(delivery.bodySHA256), .bytes(delivery.body), .json(JSONText.object(delivery.signatureHeaders)),
            .text(delivery.secretFingerprint), .text(delivery.channel.rawValue), .text(delivery.source), .text(delivery.deliveryID),
            .time(delivery.deliveryTimestamp), .time(delivery.receivedAt),
        ]
    }

    /// Appends one event, every value bound, returning its `id, position`; no row when the log
    /// already holds it (see ``append(from:returning:order:select:)``).
    static func insert(_ event: NormalizedEvent, _ delivery: IncomingDelivery) -> PostgresQuery {
        // The hot path of every webhook: the values as one interpolation, and the same text each
        // time, so the prepared statement is reused.
        var sql = PostgresQuery.StringInterpolation(literalCapacity: 1024, interpolationCount: written.count)
        sql.appendLiteral("SELECT ")
        for (index, (column, value)) in zip(written, values(event, delivery)).enumerated() {
            if index > 0 { sql.appendLiteral(", ") }
            switch value {
            case let .uuid(id): sql.appendInterpolation(id)
            case let .text(text): sql.appendInterpolation(text)
            case let .time(date): sql.appendInterpolation(date)
            case let .bytes(bytes): sql.appendInterpolation(Data(bytes))
            case let .numeric(text):
                sql.appendInterpolation(text)
                sql.appendLiteral("::numeric")
            case let .json(text): sql.appendInterpolation(PostgresJSONB(text))
            }
            sql.appendLiteral(" AS ")
            sql.appendInterpolation(identifier: column.name)
        }
        return append(from: PostgresQuery(stringInterpolation: sql), returning: "id, position")
    }

    /// The condition that selects event `id` as `t`: through the key table, which gives its
    /// position and event time, so only its month's partition is read (by `events_position`).
    static func located(_ id: UUID) -> PostgresQuery {
        """
        t.position = (SELECT k.position FROM billing.event_keys k WHERE k.event_id = \(id))
        AND billing.event_time(t.occurred_at, t.received_at) = (SELECT k.event_time FROM billing.event_keys k WHERE k.event_id = \(id))
        """
    }

    /// Appends one event as a binary COPY row of the staging table.
    static func appendStaged(_ event: NormalizedEvent, _ delivery: IncomingDelivery, to copy: inout PostgresBinaryCopy) {
        copy.beginRow(fieldCount: written.count)
        for value in values(event, delivery) {
            switch value {
            case let .uuid(id): copy.append(id)
            case let .text(text), let .numeric(text): copy.append(text)
            case let .json(text): copy.append(text)
            case let .time(date): copy.append(date)
            case let .bytes(bytes): copy.append(bytes: bytes)
            }
        }
    }

    /// The session's staging table of the backfill: ``written`` with their staged types, emptied
    /// at every commit.
    static var createStaging: PostgresQuery {
        let columns = PostgresQuery.joined(written.map { "\(identifier: $0.name) \($0.stagedType.sql)" }, separator: ", ")
        return "CREATE TEMP TABLE backfill_staging (\(columns)) ON COMMIT DELETE ROWS"
    }

    /// `COPY` of staged rows (``appendStaged(_:_:to:)``) into the staging table.
    static var copyStaging: PostgresQuery {
        "COPY pg_temp.backfill_staging (\(columnList)) FROM STDIN (FORMAT binary)"
    }

    /// Moves the staged rows into the log (duplicates skipped), returning how many went in and how
    /// many of those are snapshots. Of rows with one key, the first staged is the one kept.
    static var mergeStaging: PostgresQuery {
        let casts = written.map { (column: Column) -> PostgresQuery in
            column.type == column.stagedType ? "\(identifier: column.name)" : "\(identifier: column.name)::\(column.type.sql)"
        }
        return append(
            from: """
                SELECT DISTINCT ON (provider, dedupe_key) ctid AS staged, \(PostgresQuery.joined(casts, separator: ", "))
                FROM pg_temp.backfill_staging ORDER BY provider, dedupe_key, ctid
                """,
            returning: "channel", order: "staged",
            select: "SELECT count(*)::int8, (count(*) FILTER (WHERE channel = 'snapshot'))::int8 FROM inserted")
    }

    /// The one way an event enters the log: its keys first into `billing.event_keys` (the log is
    /// partitioned by month, so its own indexes cannot be unique across months), each with the
    /// next position; the events whose keys went in then into `billing.events` with those
    /// positions, in one statement. A key that is already there (same provider and dedupe key,
    /// same event id, or for Flexprice an identical body of the same type within the redelivery
    /// window) leaves its event out. `rows` selects the ``written`` columns, one row per key,
    /// optionally with a column `order` that orders the positions; `select` reads the inserted
    /// events' `returning` columns from `inserted`.
    private static func append(
        from rows: PostgresQuery, returning: PostgresQuery, order: PostgresQuery? = nil, select: PostgresQuery = "SELECT * FROM inserted"
    ) -> PostgresQuery {
        let ordered: PostgresQuery = order.map { " ORDER BY \($0)" } ?? ""
        return """
            WITH incoming AS (\(rows)),
            key AS (
                \(keys(from: "incoming\(ordered)", position: "nextval('billing.event_positions')"))
                RETURNING provider, dedupe_key, position),
            inserted AS (
                INSERT INTO billing.events (position, \(columnList))
                SELECT key.position, \(PostgresQuery.joined(written.map { "incoming.\(identifier: $0.name)" }, separator: ", "))
                FROM incoming JOIN key USING (provider, dedupe_key)
                RETURNING \(returning))
            \(select)
            """
    }

    /// `INSERT INTO billing.event_keys … ON CONFLICT DO NOTHING` of the events `source` selects
    /// (with the ``written`` columns), each at `position`. The one home of the key table's columns.
    static func keys(from source: PostgresQuery, position: PostgresQuery) -> PostgresQuery {
        """
        INSERT INTO billing.event_keys (provider, dedupe_key, event_id, position, event_time, environment, event_type, body_sha256,
            occurred_at)
        SELECT provider, dedupe_key, id, \(position), billing.event_time(occurred_at, received_at),
            \(flexprice("environment")), \(flexprice("event_type")), \(flexprice("body_sha256")), \(flexprice("occurred_at"))
        FROM \(source)
        ON CONFLICT DO NOTHING
        """
    }

    /// A key-table column only Flexprice's redelivery window needs, NULL for other providers.
    private static func flexprice(_ column: String) -> PostgresQuery {
        "CASE WHEN provider = 'flexprice' THEN \(identifier: column) END"
    }

    private static let columnList = PostgresQuery.joined(written.map { "\(identifier: $0.name)" }, separator: ", ")

    /// The columns a projector reads back, in order (``storedEvent(_:at:checkpoint:)`` decodes them).
    private static let readList: [PostgresQuery] = [
        "id", "provider", "environment", "event_type", "entity_kind", "entity_provider_id", "customer_provider_id", "occurred_at",
        "as_of", "amount::text", "currency", "dedupe_key", "provider_event_id", "channel", "received_at",
        "convert_from(raw_body, 'UTF8')",
    ]
    /// ``readList`` as one select list.
    static let readColumns = PostgresQuery.joined(readList, separator: ", ")
    /// `NULL` for each read column, for the scan's marker rows.
    static let readPadding = PostgresQuery.joined(Array(repeating: "NULL", count: readList.count), separator: ", ")

    /// The event whose ``readColumns`` start at column `offset` of `row`. A stored provider,
    /// environment, kind or channel this build does not know is an error, never a default.
    static func storedEvent(_ row: PostgresRow, at offset: Int, checkpoint: LogCheckpoint) throws -> StoredEvent {
        func value<T: PostgresDecodable>(_ index: Int, _: T.Type = T.self) throws -> T { try row.decode(T.self, at: offset + index) }
        func known<T: RawRepresentable<String>>(_ index: Int, _ column: String, _: T.Type) throws -> T {
            let text = try value(index, String.self)
            guard let known = T(rawValue: text) else { throw UnknownStoredValue(column: column, value: text) }
            return known
        }
        var event = NormalizedEvent(
            provider: try known(1, "provider", Provider.self), environment: try known(2, "environment", ProviderEnvironment.self),
            eventType: try value(3),
            entityKind: try known(4, "entity_kind", EntityKind.self), entityID: try value(5), customerID: try value(6), occurredAt: try value(7),
            asOf: try value(8), amount: try value(9, String?.self).flatMap { DecimalAmount($0) }, currency: try value(10),
            dedupeKey: try value(11), providerEventID: try value(12))
        event.id = try value(0)
        return StoredEvent(
            checkpoint: checkpoint, event: event, channel: try known(13, "channel", IngestChannel.self), receivedAt: try value(14),
            rawBody: Array(try value(15, String.self).utf8))
    }
}

/// A stored column holds a value this build has no case for (a newer build wrote it, or a hand edit).
struct UnknownStoredValue: Error, CustomStringConvertible {
    /// The table read (in `billing`).
    var table = "events"
    /// The column read.
    var column: String
    /// What it held.
    var value: String
    /// `billing.events.provider holds "x", which this build does not know`.
    var description: String { "billing.\(table).\(column) holds \"\(value)\", which this build does not know" }
}
