import BillingCore
import Postgres

extension ListResource {
    private static let customerFields = columns("external_id", "name", "email", "phone", "timezone", "address", "metadata", "deleted")

    /// `GET /v1/customers`.
    public static let customers = readModelList(
        .customers, object: "customer",
        filters: [ListFilter("external_id", .text), ListFilter("email", .caseInsensitiveText)], json: customerFields,
        conditions: ["external_id": { "t.external_id = \($0)" }, "email": { "lower(t.email) = \($0)" }])

    /// `GET /v1/subscriptions`.
    public static let subscriptions = readModelList(
        .subscriptions, object: "subscription",
        filters: [.customerID, ListFilter("status", .oneOf(ListFilter.subscriptionStatuses))],
        json: columns("external_id", "customer_id", "customer_provider_id", "status", "provider_status", "plan_id", "lookup_key")
            + money("amount")
            + columns(
                "currency", "billing_period", "billing_period_count", "billing_cadence", "billing_interval_days",
                "start_date", "end_date", "current_period_start", "current_period_end", "cancel_at", "cancelled_at",
                "cancel_at_period_end", "trial_start", "trial_end", "pause_status", "last_payment_id", "last_payment_status")
            + money("last_payment_amount") + columns("metadata"),
        conditions: ["status": { "t.status = \($0)" }])

    /// The JSON of a refund (alias `r`), nested in payments.
    static let refundJSON = readModelJSON(
        .refunds, "refund",
        columns("external_id", "payment_id", "payment_provider_id", "status", "provider_status", alias: "r") + money("amount", alias: "r")
            + columns("currency", "reason", "failure_reason", alias: "r"), alias: "r")

    /// `GET /v1/payments`, each with its refunds (oldest first).
    public static let payments = readModelList(
        .payments, object: "payment",
        filters: [
            .customerID, ListFilter("status", .oneOf(ListFilter.paymentStatuses)), ListFilter("created_gte", .time),
            ListFilter("created_lt", .time),
        ],
        json: columns("external_id", "customer_id", "customer_provider_id", "status", "provider_status") + money("amount")
            + columns("currency") + money("amount_refunded", "amount_refundable")
            + columns(
                "failure_code", "failure_message", "card_brand", "card_last4", "payment_method_type", "payment_gateway",
                "provider_transaction_id", "destination_type", "destination_id", "invoice_number", "billing_address", "succeeded_at",
                "failed_at", "refunded_at", "voided_at")
            + [
                field(
                    "refunds",
                    "COALESCE((SELECT json_agg(\(refundJSON) ORDER BY r.created_at, r.id) FROM billing.refunds r WHERE r.payment_id = t.id), '[]')"
                )
            ],
        // The provider's own refund figures: the API shows the derived ones.
        hidden: ["provider_amount_refunded", "provider_amount_refundable"],
        conditions: [
            "status": { "t.status = \($0)" }, "created_gte": { "t.created_at >= \($0)::timestamptz" },
            "created_lt": { "t.created_at < \($0)::timestamptz" },
        ])

    /// `GET /v1/wallets`.
    public static let wallets = readModelList(
        .wallets, object: "wallet", filters: [.customerID],
        json: columns(
            "customer_id", "customer_provider_id", "owner_environment_id", "name", "status", "provider_status", "wallet_type",
            "currency") + money("balance") + exact("credit_balance")
            + money("held") + exact("conversion_rate")
            + columns("credit_balance_alert_state", "ongoing_balance_alert_state", "metadata"))

    /// `GET /v1/wallets/{id}/transactions`.
    public static let walletTransactions = readModelList(
        .walletTransactions, object: "wallet_transaction", filters: [ListFilter("type", .text)],
        json: columns("wallet_id", "wallet_provider_id", "customer_id", "customer_provider_id")
            + [field("type", "t.transaction_type", column: "transaction_type")] + columns("status", "provider_status")
            + money("amount") + exact("credit_amount", "credit_balance_before", "credit_balance_after")
            + columns("currency", "reason", "reference_type", "reference_id", "description", "expiry_date", "metadata"),
        conditions: ["type": { "t.transaction_type = \($0)" }], scope: Scope(table: "wallets", column: "wallet_id"))

    /// The event time expression, exactly as indexed (`events_list` and friends).
    static let eventTime: PostgresQuery = "billing.event_time(t.occurred_at, t.received_at)"

    /// The JSON of an event without its payload.
    static let eventJSON = object(
        columns("id") + [field("object", "'event'")] + columns("position", "provider", "environment")
            + [field("type", "t.event_type")] + columns("entity_kind", "entity_provider_id")
            + [field("customer_id", "billing.read_model_id('customers', t.provider, t.environment, t.customer_provider_id)")]
            + columns("customer_provider_id", "occurred_at", "received_at", "as_of") + money("amount")
            + columns("currency", "channel", "provider_event_id", "delivery_id")
            + [field("payload_sha256", "encode(t.body_sha256, 'hex')")])

    /// `GET /v1/events`, newest first by the time the event happened, then position.
    public static let events = ListResource(
        name: "events",
        filters: [
            .provider, .environment, ListFilter("type", .text), .customerID, ListFilter("occurred_gte", .time), ListFilter("occurred_lt", .time),
        ],
        from: "billing.events t", json: eventJSON,
        conditions: [
            "type": { "t.event_type = \($0)" },
            // A customer is (provider, environment, provider id); the list reads the customer's pair.
            "customer_id": { "t.customer_provider_id = (SELECT c.provider_id FROM billing.customers c WHERE c.id = \($0)::uuid)" },
            "occurred_gte": { "\(eventTime) >= \($0)::timestamptz" },
            "occurred_lt": { "\(eventTime) < \($0)::timestamptz" },
        ],
        timeKey: eventTime, tiebreakKey: "t.position", tiebreakType: .bigint, scope: nil)

    /// A customer shown by id, with its subscriptions and wallets (up to 100 each) and its 10
    /// latest payments, newest first.
    public static let customerDetail: ListResource = {
        func nested(_ resource: ListResource, limit: Int) -> PostgresQuery {
            """
            COALESCE((SELECT json_agg(x.json ORDER BY x.created_at DESC, x.id DESC) FROM (
                SELECT \(resource.json) AS json, t.created_at, t.id FROM \(resource.from) WHERE t.customer_id = this.object_id
                ORDER BY t.created_at DESC, t.id DESC LIMIT \(literal: limit)) AS x), '[]')
            """
        }
        var detail = customers
        detail.detail = [
            field("subscriptions", nested(subscriptions, limit: 100)), field("wallets", nested(wallets, limit: 100)),
            field("latest_payments", nested(payments, limit: 10)),
        ]
        return detail
    }()
}
