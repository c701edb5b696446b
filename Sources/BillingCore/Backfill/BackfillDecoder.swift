import Foundation

/// One backfill record as the log stores it.
public struct BackfillItem: Sendable {
    /// The normalized event.
    public var event: NormalizedEvent
    /// The body and what is known of its delivery (channel `backfill` or `snapshot`).
    public var delivery: IncomingDelivery
}

/// Turns the records of one backfill file into events with the receiver's normalization and
/// dedupe keys, or says why a record cannot be stored. Pure and `Sendable`: records are decoded
/// on every core at once.
///
/// - Event records are a provider's webhook body exactly as sent, or a wrapper
///   `{"id", "timestamp", "headers", "body"}` that keeps the original delivery id (Flexprice's
///   dedupe key is the `svix-id`) and time; `body` is the body object (its bytes are kept as they
///   appear in the line) or the raw body as a JSON string.
/// - Snapshot records (`entity` set, Flexprice) are list-API rows or CSV records of one entity,
///   stored as `{"event_type":"<entity>.snapshot","<key>":<row>}` with "as of" = the row's
///   `updated_at` (else `created_at`) and dedupe key `snapshot:<entity>:<id>:<as of µs>`.
public struct BackfillDecoder: Sendable {
    /// Whose export it is.
    public var provider: Provider
    /// The environment the operator named (`live` when none).
    public var environment: ProviderEnvironment
    /// True when the operator named it: a body that says otherwise is rejected.
    public var environmentIsExplicit: Bool
    /// The entity of a snapshot file; nil for webhook bodies.
    public var entity: BackfillEntity?
    /// The file, kept with each event as `<file>:<line>`.
    public var file: String
    /// When this import started (the events' `received_at`).
    public var receivedAt: Date
    /// The CSV header, for CSV snapshot files.
    public var csvHeader: [String]?

    /// A decoder for one file.
    public init(
        provider: Provider, environment: ProviderEnvironment, environmentIsExplicit: Bool, entity: BackfillEntity?,
        file: String, receivedAt: Date, csvHeader: [String]? = nil
    ) {
        self.provider = provider
        self.environment = environment
        self.environmentIsExplicit = environmentIsExplicit
        self.entity = entity
        self.file = file
        self.receivedAt = receivedAt
        self.csvHeader = csvHeader
    }

    /// Decodes the record `bytes` that starts on `line`.
    public func decode(_ bytes: ArraySlice<UInt8>, line: Int) throws(QuarantineReason) -> BackfillItem {
        if let entity { return try snapshot(bytes, entity: entity, line: line) }
        let record = Array(bytes)
        let delivery: IncomingDelivery
        var isWrapper = false
        if let members = JSONMembers.scan(record), let body = members.first(where: { $0.key == "body" }) {
            delivery = try unwrap(record, members: members, body: body.value, line: line)
            isWrapper = true
        } else {
            delivery = self.delivery(body: record, line: line, channel: .backfill)
        }
        let event = try EventNormalizer.normalize(delivery)
        if event.asOf == delivery.receivedAt {
            // A wrapper already says what it knows: its id is not a Svix message id (which carries
            // its creation time) and it has no timestamp; telling the operator to wrap it again would be wrong.
            throw QuarantineReason(
                .missingTime,
                !isWrapper
                    ? "the body has no time of its own (no updated_at); wrap it as {\"id\": <svix-id>, \"timestamp\": ..., \"body\": ...}"
                    : "the wrapper has no timestamp, its id \(delivery.deliveryID.map { "\"\($0)\"" } ?? "(none)") is not a Svix message id "
                        + "(msg_…) carrying its creation time, and the body has no updated_at; add \"timestamp\": <unix seconds or ISO 8601>")
        }
        return BackfillItem(event: event, delivery: delivery)
    }

    private func delivery(body: [UInt8], line: Int, channel: IngestChannel) -> IncomingDelivery {
        IncomingDelivery(
            provider: provider, environment: environment, environmentIsExplicit: environmentIsExplicit, body: body,
            channel: channel, source: "\(file):\(line)", receivedAt: receivedAt)
    }

    /// The delivery a wrapper line describes.
    private func unwrap(
        _ record: [UInt8], members: [(key: String, value: Range<Int>)], body: Range<Int>, line: Int
    ) throws(QuarantineReason) -> IncomingDelivery {
        func value(_ key: String) throws(QuarantineReason) -> JSONValue? {
            guard let range = members.last(where: { $0.key == key })?.value else { return nil }
            do { return try JSONParser.parse(Array(record[range])) } catch {
                throw QuarantineReason(.invalidWrapper, "the wrapper's \(key) is not JSON: \(error.description)")
            }
        }
        var headers: [String: String] = [:]
        switch try value("headers") {
        case nil, .null?: break
        case let .object(pairs)?:
            for (name, value) in pairs {
                guard case let .string(text) = value else { throw QuarantineReason(.invalidWrapper, "header \(name) is not a string") }
                headers[name.lowercased()] = text
            }
        default: throw QuarantineReason(.invalidWrapper, "the wrapper's headers are not an object")
        }
        let bodyBytes: [UInt8]
        switch record[body.lowerBound] {
        case UInt8(ascii: "{"): bodyBytes = Array(record[body])
        case UInt8(ascii: "\""):
            guard case let .string(text)? = try value("body") else { throw QuarantineReason(.invalidWrapper, "the wrapper's body is not a string") }
            bodyBytes = Array(text.utf8)
        default: throw QuarantineReason(.invalidWrapper, "the wrapper's body is neither an object nor a string")
        }
        var id: String?
        switch try value("id") {
        case nil, .null?: id = headers["svix-id"] ?? headers["webhook-id"]
        case let .string(text)?: id = text
        case let .number(text)?: id = text
        default: throw QuarantineReason(.invalidWrapper, "the wrapper's id is not a string")
        }
        let timestamp = try value("timestamp") ?? (headers["svix-timestamp"] ?? headers["webhook-timestamp"]).map(JSONValue.string)
        let time: Date?
        do throws(QuarantineReason) {
            time = try PayloadField.timestamp(timestamp, "timestamp")
        } catch {
            throw QuarantineReason(.invalidWrapper, "the wrapper's \(error.message)")
        }
        return IncomingDelivery(
            provider: provider, environment: environment, environmentIsExplicit: environmentIsExplicit, body: bodyBytes,
            deliveryID: id.flatMap { $0.isEmpty ? nil : $0 }, deliveryTimestamp: time, signatureHeaders: headers,
            channel: .backfill, source: "\(file):\(line)", receivedAt: receivedAt)
    }

    /// A list-API row or CSV record of `entity`, as a snapshot event.
    private func snapshot(_ bytes: ArraySlice<UInt8>, entity: BackfillEntity, line: Int) throws(QuarantineReason) -> BackfillItem {
        let row: [UInt8]
        if let csvHeader {
            row = try CSVRecord.object(header: csvHeader, fields: try CSVRecord.fields(bytes))
        } else {
            row = Array(bytes)
        }
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(row) } catch { throw QuarantineReason(.notJSON, "the row is not JSON: \(error.description)") }
        guard case .object = parsed else { throw QuarantineReason(.notObject, "the row is JSON but not an object") }
        let updated = try PayloadField.microseconds(parsed["updated_at"], "updated_at")
        let created = try PayloadField.microseconds(parsed["created_at"], "created_at")
        guard let asOf = updated ?? created else {
            throw QuarantineReason(.missingTime, "the row has neither updated_at nor created_at, so it cannot be ordered against webhooks")
        }
        let body = Array(#"{"event_type":"\#(entity.eventType)","\#(entity.objectKey)":"#.utf8) + row + [UInt8(ascii: "}")]
        var delivery = self.delivery(body: body, line: line, channel: .snapshot)
        delivery.deliveryTimestamp = EventTimestamp.date(microseconds: asOf)
        var event = try EventNormalizer.normalize(delivery)
        event.dedupeKey = "snapshot:\(entity.rawValue):\(event.entityID ?? ""):\(asOf)"
        event.id = NormalizedEvent.id(provider: event.provider, dedupeKey: event.dedupeKey)
        return BackfillItem(event: event, delivery: delivery)
    }
}
