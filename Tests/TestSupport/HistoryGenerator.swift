import Foundation

/// One generated webhook body with what a delivery needs.
public struct GeneratedDelivery: Sendable, Hashable {
    /// `flexprice`, `mintcash` or `mintfax`.
    public var provider: String
    /// `live` or `test`.
    public var environment: String
    /// The exact body.
    public var body: String
    /// The delivery id header (Flexprice svix-id, mintfax webhook-id); nil for MintCash.
    public var deliveryID: String?

    /// Creates a delivery.
    public init(provider: String, environment: String, body: String, deliveryID: String?) {
        self.provider = provider
        self.environment = environment
        self.body = body
        self.deliveryID = deliveryID
    }
}

/// Random but reproducible event histories of many entities from all three providers, shaped
/// like the providers' payloads: payment life cycles with refunds, subscriptions, customers,
/// wallets with alerts and transactions, mintfax balances. Times increase per entity, with
/// deliberate ties (same "as of", different status) to exercise the tie-break.
public struct HistoryGenerator {
    private var state: UInt64
    private var clock: Int64
    private let tag: String
    private var entityCount = 0

    /// A generator for `seed` whose history starts at `start` (Unix milliseconds; 2026-05-28 by
    /// default) and moves on by up to `step` milliseconds per entity.
    public init(seed: UInt64, start: Int64 = 1_780_000_000_000, step: Int64 = 60_000) {
        state = seed &+ 0x9E37_79B9_7F4A_7C15
        tag = String(seed, radix: 36)
        clock = start
        self.step = step
    }

    private let step: Int64

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }

    private mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

    /// The next time for an entity: usually later, sometimes the same (a tie).
    private mutating func tick(_ time: inout Int64) -> Int64 {
        if !chance(20) { time += Int64(int(1...5000)) }
        return time
    }

    /// `2026-05-22T14:32:08.412Z` (formatted by hand: Foundation's formatters dominate a
    /// million-event benchmark's set-up otherwise).
    private static func iso(_ millis: Int64) -> String {
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):"
            + "\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis % 1000), 3))Z"
    }

    private mutating func uuid() -> String {
        func hex(_ value: UInt64, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        let a = next()
        let b = next()
        return "\(hex(a >> 32, 8))-\(hex((a >> 16) & 0xFFFF, 4))-4\(hex(a & 0xFFF, 3))-a\(hex(b >> 52, 3))-\(hex(b & 0xFFFF_FFFF_FFFF, 12))"
    }

    /// A history of about `entities` entities (a few events each), in the order they happened.
    public mutating func history(entities: Int) -> [GeneratedDelivery] {
        var deliveries: [GeneratedDelivery] = []
        for _ in 0..<entities {
            let index = entityCount
            entityCount += 1
            clock += Int64(int(0...Int(step)))
            let environment = chance(70) ? "live" : "test"
            switch int(0...6) {
            case 0: deliveries += mintcashPayment(index, environment)
            case 1: deliveries += mintcashSubscription(index, environment)
            case 2: deliveries += flexpriceCustomer(index, environment)
            case 3: deliveries += flexpriceSubscription(index, environment)
            case 4: deliveries += flexpriceWallet(index, environment)
            case 5: deliveries += flexpricePayment(index, environment)
            default: deliveries += mintfaxBalance(environment)
            }
        }
        // Flexprice can send the same body under two svix-ids; the log keeps one, so does a history.
        var bodies = Set<String>()
        return deliveries.filter { $0.provider != "flexprice" || bodies.insert($0.body).inserted }
    }

    private mutating func mintcashPayment(_ index: Int, _ environment: String) -> [GeneratedDelivery] {
        let id = "pmt_\(tag)_\(index)"
        let customer = "mc_cust_\(tag)_\(index / 6)_\(int(0...1))"
        let amount = "\(int(1...500)).\(int(10...99))"
        let paths = [
            ["created", "pending", "authorized", "succeeded"], ["created", "pending", "failed"], ["created", "authorized", "voided"],
            ["pending", "succeeded", "partially_refunded", "refunded"], ["created", "succeeded", "partially_refunded"],
        ]
        var time = clock
        var out: [GeneratedDelivery] = []
        var refunded = 0
        for status in paths[int(0...(paths.count - 1))] {
            let at = Self.iso(tick(&time))
            let body: String
            if status.hasSuffix("refunded") {
                refunded += 1
                let refundAmount = status == "refunded" && refunded == 1 ? amount : "1.\(int(10...99))"
                body =
                    #"{"eventId":"\#(uuid())","event":"payment.\#(status)","type":"payment","apiVersion":"2026-05-01","environment":"\#(environment)","createdAt":"\#(at)","data":{"id":"\#(id)","externalId":"order_\#(index)","status":"\#(status)","amountRefunded":\#(refundAmount),"amountRefundable":0,"refund":{"id":"rfd_\#(tag)_\#(index)_\#(refunded)","externalId":"r_\#(index)","amount":\#(refundAmount),"currency":"EUR","reason":"customer_request","status":"\#(chance(15) ? "failed" : "succeeded")","createdAt":"\#(at)"}}}"#
            } else {
                let failure = status == "failed" ? #""card_declined""# : "null"
                body =
                    #"{"eventId":"\#(uuid())","event":"payment.\#(status)","type":"payment","apiVersion":"2026-05-01","environment":"\#(environment)","createdAt":"\#(at)","data":{"id":"\#(id)","externalId":"order_\#(index)","status":"\#(status)","amount":\#(amount),"currency":"EUR","providerTransactionId":null,"failureCode":\#(failure),"failureMessage":null,"amountRefunded":0,"amountRefundable":\#(amount),"customer":{"id":"\#(customer)","externalId":"ext_\#(customer)","email":"\#(customer)@example.com","name":"Name \#(int(0...9))","phone":null},"billingAddress":null,"card":{"brand":"visa","last4":"4242","expMonth":"03","expYear":"31","first6":"424242"}}}"#
            }
            out.append(GeneratedDelivery(provider: "mintcash", environment: environment, body: body, deliveryID: nil))
        }
        return out
    }

    private mutating func mintcashSubscription(_ index: Int, _ environment: String) -> [GeneratedDelivery] {
        let id = "sub_\(tag)_\(index)"
        let customer = "mc_cust_\(tag)_\(index / 6)_\(int(0...1))"
        var time = clock
        return [
            ("subscription.succeeded", "active"), ("subscription.failed", "past_due"), ("subscription.succeeded", "active"),
            ("subscription.cancelled", "cancelled"),
        ].prefix(int(1...4)).map { event, status in
            let at = Self.iso(tick(&time))
            let body =
                #"{"eventId":"\#(uuid())","event":"\#(event)","type":"subscription","apiVersion":"2026-05-01","environment":"\#(environment)","createdAt":"\#(at)","data":{"id":"\#(id)","externalId":"s_\#(index)","status":"\#(status)","amount":\#(int(5...50)).99,"currency":"USD","billingIntervalDays":30,"currentPeriodEnd":"\#(Self.iso(time + 2_592_000_000))","customer":{"id":"\#(customer)","externalId":"ext_\#(customer)","email":"\#(customer)@example.com","name":"Name \#(int(0...9))"},"lastPayment":{"id":"pmt_x\#(int(0...99))","status":"succeeded","amount":9.99}}}"#
            return GeneratedDelivery(provider: "mintcash", environment: environment, body: body, deliveryID: nil)
        }
    }

    private mutating func flexprice(_ type: String, _ environment: String, _ payload: String) -> GeneratedDelivery {
        GeneratedDelivery(
            provider: "flexprice", environment: environment, body: #"{"event_type":"\#(type)",\#(payload)}"#, deliveryID: "msg_\(uuid())")
    }

    private mutating func customerObject(_ id: String, at: String?) -> String {
        let updated = at.map { #","updated_at":"\#($0)""# } ?? ""
        return
            #"{"id":"\#(id)","external_id":"ext_\#(id)","name":"Customer \#(int(0...9))","email":"\#(id)@example.com","address_country":"DE","metadata":{"tier":"\#(int(1...3))"}\#(updated)}"#
    }

    private mutating func flexpriceCustomer(_ index: Int, _ environment: String) -> [GeneratedDelivery] {
        let id = "cust_\(tag)_\(index / 6)_\(int(0...1))"
        var time = clock
        let types = ["customer.created", "customer.updated", "customer.updated", "customer.deleted"].prefix(int(1...4))
        return types.map { type in
            let object = customerObject(id, at: Self.iso(tick(&time)))
            return flexprice(type, environment, #""customer":\#(object)"#)
        }
    }

    private mutating func flexpriceSubscription(_ index: Int, _ environment: String) -> [GeneratedDelivery] {
        let id = "subs_\(tag)_\(index)"
        let customer = "cust_\(tag)_\(index / 6)_\(int(0...1))"
        var time = clock
        return [
            ("subscription.created", "draft"), ("subscription.activated", "active"), ("subscription.paused", "paused"),
            ("subscription.resumed", "active"), ("subscription.cancelled", "cancelled"),
        ].prefix(int(1...5)).map { type, status in
            let at = Self.iso(tick(&time))
            let embedded = customerObject(customer, at: nil)
            let cancelled = status == "cancelled" ? #","cancelled_at":"\#(at)""# : ""
            return flexprice(
                type, environment,
                #""subscription":{"id":"\#(id)","customer_id":"\#(customer)","plan_id":"plan_\#(int(1...3))","subscription_status":"\#(status)","currency":"usd","start_date":"\#(Self.iso(clock))","current_period_start":"\#(Self.iso(clock))","current_period_end":"\#(Self.iso(clock + 2_592_000_000))","cancel_at_period_end":\#(chance(50)),"billing_cadence":"RECURRING","billing_period":"MONTHLY","billing_period_count":1,"updated_at":"\#(at)"\#(cancelled),"customer":\#(embedded)}"#
            )
        }
    }

    private mutating func flexpriceWallet(_ index: Int, _ environment: String) -> [GeneratedDelivery] {
        let id = "wallet_\(tag)_\(index)"
        let customer = "cust_\(tag)_\(index / 6)_\(int(0...1))"
        var time = clock
        var balance = int(0...100)
        var out: [GeneratedDelivery] = []
        func wallet(_ at: String, _ status: String = "active") -> String {
            #"{"id":"\#(id)","customer_id":"\#(customer)","currency":"usd","balance":"\#(balance)","credit_balance":"\#(balance)","wallet_status":"\#(status)","wallet_type":"PRE_PAID","conversion_rate":"1","updated_at":"\#(at)"}"#
        }
        out.append(flexprice("wallet.created", environment, #""wallet":\#(wallet(Self.iso(tick(&time))))"#))
        for step in 0..<int(0...4) {
            let at = Self.iso(tick(&time))
            switch int(0...3) {
            case 0:
                out.append(
                    flexprice(
                        "wallet.credit_balance.dropped", environment,
                        #""wallet":\#(wallet(at)),"alert":{"state":"in_alarm","credit_balance":"\#(balance)"}"#))
            case 1:
                out.append(
                    flexprice("wallet.credit_balance.recovered", environment, #""wallet":\#(wallet(at)),"alert":{"state":"ok","credit_balance":123}"#)
                )
            case 2:
                out.append(flexprice("wallet.ongoing_balance.dropped", environment, #""wallet":\#(wallet(at)),"alert":{"state":"warning"}"#))
            default:
                let before = balance
                balance += int(1...20)
                for (type, status) in [("wallet.transaction.created", "pending"), ("wallet.transaction.updated", "completed")] {
                    let key = type.hasSuffix("updated") ? "updated_transaction" : "transaction"
                    out.append(
                        flexprice(
                            type, environment,
                            #""\#(key)":{"id":"wtxn_\#(tag)_\#(index)_\#(step)","wallet_id":"\#(id)","customer_id":"\#(customer)","type":"credit","amount":"\#(balance - before)","credit_amount":"\#(balance - before)","credit_balance_before":"\#(before)","credit_balance_after":"\#(balance)","transaction_status":"\#(status)","reference_type":"REQUEST","transaction_reason":"PURCHASED_CREDIT_DIRECT","currency":"usd","updated_at":"\#(Self.iso(tick(&time)))"}"#
                        ))
                }
            }
        }
        if chance(20) { out.append(flexprice("wallet.terminated", environment, #""wallet":\#(wallet(Self.iso(tick(&time)), "closed"))"#)) }
        return out
    }

    private mutating func flexpricePayment(_ index: Int, _ environment: String) -> [GeneratedDelivery] {
        let id = "pay_\(tag)_\(index)"
        let customer = "cust_\(tag)_\(index / 6)_\(int(0...1))"
        var time = clock
        var out = [("payment.created", "INITIATED"), ("payment.pending", "PENDING"), ("payment.success", "SUCCEEDED")].prefix(int(1...3)).map {
            type, status in
            flexprice(
                type, environment,
                #""payment":{"id":"\#(id)","destination_type":"CUSTOMER","destination_id":"\#(customer)","payment_method_type":"CARD","amount":"30","currency":"usd","payment_status":"\#(status)","updated_at":"\#(Self.iso(tick(&time)))"}"#
            )
        }
        if chance(40) {
            for (type, status) in [("refund.created", "PENDING"), ("refund.succeeded", "SUCCEEDED")] {
                out.append(
                    flexprice(
                        type, environment,
                        #""refund":{"id":"rfnd_\#(tag)_\#(index)","payment_id":"\#(id)","amount":"12.5","currency":"usd","refund_status":"\#(status)","refund_reason":"REQUESTED_BY_CUSTOMER","updated_at":"\#(Self.iso(tick(&time)))"}"#
                    ))
            }
        }
        return out
    }

    private mutating func mintfaxBalance(_ environment: String) -> [GeneratedDelivery] {
        var seconds = clock / 1000
        let environmentID = "env_\(tag)_\(int(0...1))"
        return (0..<int(1...3)).map { _ in
            if chance(70) { seconds += Int64(int(1...30)) }
            let id = "evt_\(uuid().replacingOccurrences(of: "-", with: "").prefix(22))"
            let type = chance(50) ? "balance.low" : "balance.topup"
            let body =
                #"{"id":"\#(id)","type":"\#(type)","created":\#(seconds),"data":{"object":{"environment_id":"\#(environmentID)","available":\#(int(0...9999)),"held":\#(int(0...500)),"currency":"USD"}}}"#
            return GeneratedDelivery(provider: "mintfax", environment: environment, body: body, deliveryID: id)
        }
    }
}
