/// The amounts the service accepts: every real billing amount fits, and a value that does not
/// (`1e400`, a 30-digit balance) is a broken or hostile body, not money. Out of bounds, the
/// delivery is quarantined (`amount_out_of_range`) instead of becoming a 401-digit `numeric`.
///
/// Sign: a negative amount is refused (`negative_amount`) where the type carries the direction:
/// payments, refunds, wallet transactions (`type` credit/debit) and credit notes. Wallet and
/// account balances may be negative (an overdrawn or ongoing balance), and so may invoice totals
/// (a credit-only invoice).
public enum AmountBounds {
    /// Most digits before the decimal point (10^18 minor units is beyond any currency's supply).
    public static let integerDigits = 18
    /// Most significant digits after the point, trailing zeros not counted (crypto and credit
    /// conversion rates use up to 9; fractional-cent usage prices up to 12).
    public static let fractionDigits = 12

    /// Refuses `amount` when it has more digits before or after the point than the bounds.
    static func check(_ amount: DecimalAmount, _ field: String) throws(QuarantineReason) {
        let fraction = max(0, -amount.exponent)
        let integer = max(0, amount.digits.count + amount.exponent)
        guard integer <= integerDigits, fraction <= fractionDigits else {
            throw QuarantineReason(
                .amountOutOfRange,
                "\(field) has \(integer) digits before and \(fraction) after the point; at most \(integerDigits) and \(fractionDigits) are accepted")
        }
    }

    /// Refuses a negative amount on a kind whose type carries the direction.
    static func checkSign(_ event: NormalizedEvent) throws(QuarantineReason) {
        guard let amount = event.amount, amount.negative else { return }
        switch event.entityKind {
        case .payment, .refund, .walletTransaction, .creditNote:
            throw QuarantineReason(
                .negativeAmount, "the \(event.entityKind.rawValue) amount is negative; its direction is in the event type, amounts are not signed")
        default: return
        }
    }
}
