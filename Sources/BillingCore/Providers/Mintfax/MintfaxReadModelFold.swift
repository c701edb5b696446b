/// mintfax credit balances into wallets owned by a mintfax environment (no customer): the
/// `balance.*` snapshot's `available` and `held` are cents. `balance.low` puts the wallet's
/// credit balance alert in alarm, `balance.topup` clears it. A snapshot without
/// `environment_id` is the route environment's shared pool (provider id `pool`).
enum MintfaxReadModelFold {
    static func fold(_ root: FoldObject, into folding: inout Folding) throws(ReadModelFoldError) {
        guard folding.event.entityKind == .balance else { return }
        guard let data = root.object("data") else { throw ReadModelFoldError("data is missing") }
        let object = data.object("object") ?? data
        let environmentID = try object.text("environment_id")
        let id = environmentID ?? "pool"
        let currency = try object.text("currency").flatMap(Currency.normalize)
        let places = currency.map(Currency.minorUnitDigits) ?? 2
        var values = FoldValues()
        values.set("owner_environment_id", environmentID)
        values.set("status", "active")
        values.set("wallet_type", "credits")
        values.set("currency", currency)
        values.set("balance", try cents(object, "available")?.shifted(by: places))
        values.set("held", try cents(object, "held")?.shifted(by: places))
        folding.set(.wallet, id, rank: 0, values)

        let state = folding.event.eventType == "balance.low" ? "in_alarm" : "ok"
        var alert = FoldValues()
        alert.set("credit_balance_alert_state", state)
        folding.set(.creditBalanceAlert, id, rank: ReadModelStatus.alertRank(state), alert)
    }

    private static func cents(_ object: FoldObject, _ key: String) throws(ReadModelFoldError) -> DecimalAmount? {
        guard let amount = try object.amount(key) else { return nil }
        guard amount.exponent >= 0 else { throw ReadModelFoldError("\(object.path).\(key) is not an integer number of cents") }
        return amount
    }
}
