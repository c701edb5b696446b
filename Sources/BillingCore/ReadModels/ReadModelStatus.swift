/// Provider statuses mapped to the read models' normalized statuses, with the precedence that
/// breaks ties between two snapshots of the same "as of" (terminal states rank highest).
enum ReadModelStatus {
    /// Payments (the normalized status itself is derived in SQL, `billing.payment_status`, because
    /// refunds can move it). MintCash precedence: created < pending < authorized < succeeded <
    /// partially_refunded < refunded; failed and voided are terminal.
    static func paymentRank(_ raw: String?) -> Int {
        switch raw?.lowercased() {
        case "created", "initiated": 0
        case "pending": 1
        case "processing": 2
        case "authorized": 3
        case "succeeded", "overpaid": 4
        case "partially_refunded": 5
        case "refunded": 6
        case "failed", "voided": 7
        default: 0
        }
    }

    /// Subscriptions: Flexprice `draft, incomplete, trialing, active, paused, cancelled`; MintCash
    /// `created, pending, active, past_due, failed, cancelled`.
    static func subscription(_ raw: String?) -> (status: String?, rank: Int) {
        switch raw?.lowercased() {
        case nil: (nil, 0)
        case "draft": ("draft", 0)
        case "created", "pending": ("pending", 1)
        case "incomplete": ("incomplete", 1)
        case "trialing": ("trialing", 2)
        case "active": ("active", 3)
        case "past_due": ("past_due", 4)
        case "paused": ("paused", 4)
        case "failed": ("failed", 5)
        case "cancelled", "canceled": ("cancelled", 6)
        default: ("unknown", 0)
        }
    }

    /// Refunds: Flexprice `PENDING, PROCESSING, SUCCEEDED, FAILED, CANCELLED`; MintCash lower-case.
    static func refund(_ raw: String?) -> (status: String?, rank: Int) {
        switch raw?.lowercased() {
        case nil: (nil, 0)
        case "created", "pending": ("pending", 0)
        case "processing": ("processing", 1)
        case "succeeded", "success", "completed": ("succeeded", 2)
        case "failed": ("failed", 3)
        case "cancelled", "canceled": ("cancelled", 3)
        default: ("unknown", 0)
        }
    }

    /// Wallets: `active, frozen, closed`.
    static func wallet(_ raw: String?) -> (status: String?, rank: Int) {
        switch raw?.lowercased() {
        case nil: (nil, 0)
        case "active": ("active", 0)
        case "frozen": ("frozen", 1)
        case "closed", "terminated": ("closed", 2)
        default: ("unknown", 0)
        }
    }

    /// Wallet transactions: `pending, completed, failed`.
    static func walletTransaction(_ raw: String?) -> (status: String?, rank: Int) {
        switch raw?.lowercased() {
        case nil: (nil, 0)
        case "pending": ("pending", 0)
        case "completed": ("completed", 1)
        case "failed": ("failed", 2)
        default: ("unknown", 0)
        }
    }

    /// Balance alerts: `ok, info, warning, in_alarm`.
    static func alertRank(_ state: String) -> Int {
        switch state {
        case "info": 1
        case "warning": 2
        case "in_alarm": 3
        default: 0
        }
    }
}
