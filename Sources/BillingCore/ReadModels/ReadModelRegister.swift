/// A group of read-model columns written together by one kind of event, with the version that
/// wrote them (`<name>_as_of`, `<name>_rank`, `<name>_event_id`). A register is replaced only by
/// a strictly greater ``ReadModelVersion``, which makes every read model independent of delivery
/// order and duplicates.
public struct ReadModelRegister: Sendable, Hashable {
    /// A column and its PostgreSQL type.
    public struct Column: Sendable, Hashable {
        /// Column name.
        public var name: String
        /// Its PostgreSQL type.
        public var type: SQLType
        /// Creates a column.
        public init(name: String, type: SQLType) {
            self.name = name
            self.type = type
        }
    }

    /// The version of the last write, on the read-model row: `<name>_as_of`, `<name>_rank`, `<name>_event_id`.
    public var versionColumns: [Column] {
        [
            .init(name: "\(name)_as_of", type: .timestamptz), .init(name: "\(name)_rank", type: .integer),
            .init(name: "\(name)_event_id", type: .uuid),
        ]
    }

    /// The key and version of a row of a version table (one row per event and register).
    public static let versionRowColumns: [Column] = [
        .init(name: "id", type: .uuid), .init(name: "register", type: .text), .init(name: "as_of", type: .timestamptz),
        .init(name: "rank", type: .integer), .init(name: "event_id", type: .uuid),
    ]

    /// The table it belongs to.
    public var table: ReadModelTable
    /// Prefix of its version columns.
    public var name: String
    /// The state columns it sets (absent values are written as NULL).
    public var columns: [Column]

    init(_ table: ReadModelTable, _ name: String, _ columns: [(String, SQLType)]) {
        self.table = table
        self.name = name
        self.columns = columns.map { Column(name: $0.0, type: $0.1) }
    }

    private static let created: (String, SQLType) = ("provider_created_at", .timestamptz)

    /// A customer as its provider describes it.
    public static let customer = ReadModelRegister(
        .customers, "state",
        [
            ("external_id", .text), ("name", .text), ("email", .text), ("phone", .text), ("timezone", .text),
            ("address", .jsonb), ("metadata", .jsonb), ("deleted", .boolean), created,
        ])
    /// A subscription snapshot.
    public static let subscription = ReadModelRegister(
        .subscriptions, "state",
        [
            ("external_id", .text), ("customer_id", .uuid), ("customer_provider_id", .text), ("status", .text),
            ("provider_status", .text), ("plan_id", .text), ("lookup_key", .text), ("amount", .numeric),
            ("currency", .text), ("billing_period", .text), ("billing_period_count", .integer),
            ("billing_cadence", .text), ("billing_interval_days", .integer), ("start_date", .timestamptz),
            ("end_date", .timestamptz), ("current_period_start", .timestamptz), ("current_period_end", .timestamptz),
            ("cancel_at", .timestamptz), ("cancelled_at", .timestamptz), ("cancel_at_period_end", .boolean),
            ("trial_start", .timestamptz), ("trial_end", .timestamptz), ("pause_status", .text),
            ("last_payment_id", .text), ("last_payment_status", .text), ("last_payment_amount", .numeric),
            ("metadata", .jsonb), created,
        ])
    /// What a payment is: amount, customer, card, method; written by payment events.
    public static let paymentDetails = ReadModelRegister(
        .payments, "details",
        [
            ("external_id", .text), ("customer_id", .uuid), ("customer_provider_id", .text), ("amount", .numeric),
            ("currency", .text), ("failure_code", .text), ("failure_message", .text), ("card_brand", .text),
            ("card_last4", .text), ("payment_method_type", .text), ("payment_gateway", .text),
            ("provider_transaction_id", .text), ("destination_type", .text), ("destination_id", .text),
            ("invoice_number", .text), ("billing_address", .jsonb), ("succeeded_at", .timestamptz),
            ("failed_at", .timestamptz), ("refunded_at", .timestamptz), ("voided_at", .timestamptz), created,
        ])
    /// Where a payment stands: written by payment events and by MintCash refund events (which
    /// carry only the payment's status and refund amounts).
    public static let paymentStatus = ReadModelRegister(
        .payments, "status",
        [
            ("provider_status", .text), ("provider_amount_refunded", .numeric), ("provider_amount_refundable", .numeric),
        ])
    /// A refund snapshot.
    public static let refund = ReadModelRegister(
        .refunds, "state",
        [
            ("external_id", .text), ("payment_id", .uuid), ("payment_provider_id", .text), ("status", .text),
            ("provider_status", .text), ("amount", .numeric), ("currency", .text), ("reason", .text),
            ("failure_reason", .text), created,
        ])
    /// A wallet (or mintfax credit balance) snapshot.
    public static let wallet = ReadModelRegister(
        .wallets, "state",
        [
            ("customer_id", .uuid), ("customer_provider_id", .text), ("owner_environment_id", .text), ("name", .text),
            ("status", .text), ("provider_status", .text), ("wallet_type", .text), ("currency", .text),
            ("balance", .numeric), ("credit_balance", .numeric), ("held", .numeric), ("conversion_rate", .numeric),
            ("metadata", .jsonb), created,
        ])
    /// The state of the low credit balance alert.
    public static let creditBalanceAlert = ReadModelRegister(
        .wallets, "credit_balance_alert",
        [
            ("credit_balance_alert_state", .text)
        ])
    /// The state of the ongoing balance alert.
    public static let ongoingBalanceAlert = ReadModelRegister(
        .wallets, "ongoing_balance_alert",
        [
            ("ongoing_balance_alert_state", .text)
        ])
    /// A wallet transaction snapshot.
    public static let walletTransaction = ReadModelRegister(
        .walletTransactions, "state",
        [
            ("wallet_id", .uuid), ("wallet_provider_id", .text), ("customer_id", .uuid), ("customer_provider_id", .text),
            ("transaction_type", .text), ("status", .text), ("provider_status", .text), ("amount", .numeric),
            ("credit_amount", .numeric), ("credit_balance_before", .numeric), ("credit_balance_after", .numeric),
            ("currency", .text), ("reason", .text), ("reference_type", .text), ("reference_id", .text),
            ("description", .text), ("expiry_date", .timestamptz), ("metadata", .jsonb), created,
        ])

    /// Every register.
    public static let all: [ReadModelRegister] = [
        customer, subscription, paymentDetails, paymentStatus, refund, wallet, creditBalanceAlert, ongoingBalanceAlert,
        walletTransaction,
    ]
}
