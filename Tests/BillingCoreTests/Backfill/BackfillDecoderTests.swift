import BillingCore
import Foundation
import Testing

@Suite struct BackfillDecoderTests {
    private let received = Date(timeIntervalSince1970: 1_800_000_000)

    private func decoder(
        _ provider: Provider, entity: BackfillEntity? = nil, environment: ProviderEnvironment? = .live, header: [String]? = nil
    )
        -> BackfillDecoder
    {
        BackfillDecoder(
            provider: provider, environment: environment ?? .live, environmentIsExplicit: environment != nil, entity: entity,
            file: "/exports/file.ndjson", receivedAt: received, csvHeader: header)
    }

    private func decode(_ decoder: BackfillDecoder, _ text: String, line: Int = 7) throws(QuarantineReason) -> BackfillItem {
        try decoder.decode(Array(text.utf8)[...], line: line)
    }

    private let flexpriceBody =
        #"{"event_type": "payment.success", "payment": {"id": "pay_1", "amount": "10.5", "currency": "usd", "payment_status": "SUCCEEDED"}}"#

    @Test func aWrapperKeepsTheBodyBytesTheDeliveryIDAndTime() throws {
        let line = #"{"id": "msg_2pQ8", "timestamp": 1780000000, "headers": {"Svix-Signature": "v1,abc"}, "body": \#(flexpriceBody)}"#
        let item = try decode(decoder(.flexprice), line)
        #expect(item.delivery.body == Array(flexpriceBody.utf8))
        #expect(item.delivery.deliveryID == "msg_2pQ8")
        #expect(item.delivery.deliveryTimestamp == Date(timeIntervalSince1970: 1_780_000_000))
        #expect(item.delivery.signatureHeaders == ["svix-signature": "v1,abc"])
        #expect(item.delivery.channel == .backfill)
        #expect(item.delivery.source == "/exports/file.ndjson:7")
        #expect(item.event.dedupeKey == "msg_2pQ8")
        #expect(item.event.amountText == "10.50")
        #expect(item.event.asOf == Date(timeIntervalSince1970: 1_780_000_000))
    }

    @Test func aWrapperMayCarryTheRawBodyAsTextAndItsIDInTheHeaders() throws {
        let raw = flexpriceBody.replacingOccurrences(of: " ", with: "")
        let line = #"{"headers": {"svix-id": "msg_9", "svix-timestamp": "1780000100"}, "body": \#(JSONValue.string(raw).jsonText)}"#
        let item = try decode(decoder(.flexprice), line)
        #expect(item.delivery.body == Array(raw.utf8))
        #expect(item.event.dedupeKey == "msg_9")
        #expect(item.event.asOf == Date(timeIntervalSince1970: 1_780_000_100))
    }

    @Test func aPlainFlexpriceBodyWithoutAnyTimeIsRejected() {
        #expect(rejection { try decode(decoder(.flexprice), flexpriceBody) } == QuarantineReason.Code.missingTime)
        let withUpdate = flexpriceBody.replacingOccurrences(
            of: #""payment_status""#, with: #""updated_at": "2026-05-01T10:00:00Z", "payment_status""#)
        #expect((try? decode(decoder(.flexprice), withUpdate))?.event.dedupeKey.hasPrefix("sha256:") == true)
    }

    @Test func badWrappersAndBodiesAreRejectedWithTheirCode() {
        let cases: [(String, QuarantineReason.Code)] = [
            (#"{"id": "x", "body": 42}"#, .invalidWrapper),
            (#"{"id": ["x"], "body": {}}"#, .invalidWrapper),
            (#"{"id": "x", "timestamp": "yesterday", "body": {}}"#, .invalidWrapper),
            (#"{"id": "x", "headers": {"a": 1}, "body": {}}"#, .invalidWrapper),
            ("{not json", .notJSON),
            ("[1, 2]", .notObject),
            (
                #"{"eventId": "e1", "event": "payment.teleported", "type": "payment", "createdAt": "2026-05-01T10:00:00Z", "data": {"id": "p"}}"#,
                .unknownType
            ),
        ]
        for (line, code) in cases {
            #expect(rejection { try decode(decoder(.mintcash, environment: nil), line) } == code, "\(line)")
        }
    }

    @Test func snapshotRowsBecomeSnapshotEventsOrderedByUpdatedAt() throws {
        let row =
            #"{"id": "subs_1", "customer_id": "cust_1", "subscription_status": "active", "currency": "usd", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-05-01T10:00:00.5Z"}"#
        let item = try decode(decoder(.flexprice, entity: .subscriptions), row)
        #expect(String(decoding: item.delivery.body, as: UTF8.self) == #"{"event_type":"subscription.snapshot","subscription":\#(row)}"#)
        #expect(item.event.eventType == "subscription.snapshot")
        #expect(item.event.entityKind == .subscription)
        #expect(item.event.entityID == "subs_1")
        #expect(item.event.customerID == "cust_1")
        #expect(item.delivery.channel == .snapshot)
        let asOf = Date(timeIntervalSince1970: 1_777_629_600.5)
        #expect(item.event.asOf == asOf)
        #expect(item.event.dedupeKey == "snapshot:subscriptions:subs_1:1777629600500000")
        #expect(item.event.id == NormalizedEvent.id(provider: .flexprice, dedupeKey: item.event.dedupeKey))

        let created = try decode(
            decoder(.flexprice, entity: .walletTransactions),
            #"{"id": "wtxn_1", "wallet_id": "w", "amount": "5", "created_at": "2026-02-01T00:00:00Z"}"#)
        #expect(created.event.asOf == Date(timeIntervalSince1970: 1_769_904_000))
        #expect(rejection { try decode(decoder(.flexprice, entity: .customers), #"{"id": "cust_1"}"#) } == QuarantineReason.Code.missingTime)
    }

    @Test func csvSnapshotRowsBecomeJSONObjects() throws {
        let header = ["id", "external_id", "name", "metadata", "updated_at"]
        let decoder = decoder(.flexprice, entity: .customers, header: header)
        let item = try decode(decoder, #"cust_1,,"Doe, Jane","{""tier"":""gold""}",2026-05-01T10:00:00Z"#)
        #expect(
            String(decoding: item.delivery.body, as: UTF8.self)
                == #"{"event_type":"customer.snapshot","customer":{"id":"cust_1","name":"Doe, Jane","metadata":{"tier":"gold"},"updated_at":"2026-05-01T10:00:00Z"}}"#
        )
        #expect(rejection { try decode(decoder, "cust_2,x") } == QuarantineReason.Code.invalidCSV)
        #expect(rejection { try decode(decoder, #"cust_2,"x"y,a,{},2026-05-01T10:00:00Z"#) } == QuarantineReason.Code.invalidCSV)
    }
}

/// The code of the reason `body` threw, nil when it did not throw.
private func rejection(_ body: () throws -> BackfillItem) -> QuarantineReason.Code? {
    do {
        _ = try body()
        return nil
    } catch {
        return (error as? QuarantineReason)?.code
    }
}
