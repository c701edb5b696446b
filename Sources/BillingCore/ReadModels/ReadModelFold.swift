import Foundation

/// Turns one logged event into the read-model writes it implies. Pure: the same event always
/// gives the same writes, and the writes commute (see ``ReadModelRegister``), so the read models
/// do not depend on delivery order. Rules per provider: `docs/projections.md`.
public enum ReadModelFold {
    /// The writes for `event`, whose exact body is `body`. Throws when a field the read models
    /// need is unusable (the projector retries, then parks the event as a dead letter).
    public static func writes(for event: NormalizedEvent, body: [UInt8]) throws(ReadModelFoldError) -> [ReadModelWrite] {
        var folding = Folding(event: event)
        switch event.entityKind {
        case .customer, .subscription, .payment, .refund, .wallet, .walletTransaction, .balance:
            let root: JSONValue
            do { root = try JSONParser.parse(body) } catch { throw ReadModelFoldError("the body is not JSON: \(error)") }
            let object = FoldObject(value: root, path: "")
            switch event.provider {
            case .flexprice: try FlexpriceReadModelFold.fold(object, into: &folding)
            case .mintcash: try MintCashReadModelFold.fold(object, into: &folding)
            case .mintfax: try MintfaxReadModelFold.fold(object, into: &folding)
            }
        case .invoice, .creditNote, .fax, .other:
            break
        }
        if let customer = event.customerID { folding.touch(.customers, customer) }
        return folding.writes
    }
}

/// The writes of one event while they are being built.
struct Folding {
    /// The event being folded.
    let event: NormalizedEvent
    /// Its "as of" in microseconds.
    let asOf: Int64
    /// The writes so far.
    var writes: [ReadModelWrite] = []

    init(event: NormalizedEvent) {
        self.event = event
        self.asOf = Int64((event.asOf.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// Sets `register` of the entity `providerID`; `asOf` defaults to the event's.
    mutating func set(_ register: ReadModelRegister, _ providerID: String, rank: Int, asOf: Int64? = nil, _ values: FoldValues) {
        writes.append(
            ReadModelWrite(
                table: register.table, provider: event.provider, environment: event.environment, providerID: providerID,
                register: register, version: ReadModelVersion(asOf: asOf ?? self.asOf, rank: rank, eventID: event.id),
                values: values.values))
    }

    /// Records that the event names the entity (its row exists from then on).
    mutating func touch(_ table: ReadModelTable, _ providerID: String) {
        writes.append(
            ReadModelWrite(
                table: table, provider: event.provider, environment: event.environment, providerID: providerID,
                register: nil, version: ReadModelVersion(asOf: asOf, rank: 0, eventID: event.id)))
    }

    /// The stable id of another table's row of this provider and environment.
    func id(_ table: ReadModelTable, _ providerID: String?) -> UUID? {
        providerID.map { table.id(provider: event.provider, environment: event.environment, providerID: $0) }
    }
}
