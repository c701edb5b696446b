-- 0008 hardening: a bounded redelivery window for Flexprice's identical bodies, one money format
-- for every amount in the analytics views, and the signature headers for re-verification.

-- Flexprice can re-send one event under a new svix-id (a retrigger, hours later), so an identical
-- body of the same type is a redelivery: but only within a window. A state that genuinely repeats
-- (wallet.credit_balance.dropped → recovered → dropped) sends a byte-identical body again under a
-- new svix-id, and that one is a new event. The window is measured on the provider's clock for the
-- message (occurred_at: the creation time inside the Svix message id, else the signed timestamp),
-- never on our receive time, so a backfill that replays months in minutes keeps genuine repeats.
-- Two identical bodies are one event when their message times are less than 24 hours apart: past
-- Svix's 12-hour idempotency horizon, after which a Flexprice retrigger becomes a new message.
-- An exclusion constraint enforces it atomically for concurrent webhooks and backfill alike.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Half the redelivery window on each side of a message time (hours only, so truly immutable).
CREATE FUNCTION billing.flexprice_redelivery_window(message_at timestamptz) RETURNS tstzrange
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT tstzrange(message_at - interval '12 hours', message_at + interval '12 hours', '[)')
$$;
COMMENT ON FUNCTION billing.flexprice_redelivery_window(timestamptz) IS
    'Flexprice identical bodies of one type whose message times are under 24 h apart are one event (README, Webhooks: the redelivery window)';

-- Per environment: the route names it, and a body delivered to live and to test is two events.
ALTER TABLE billing.events ADD CONSTRAINT events_flexprice_redelivery EXCLUDE USING gist (
    environment WITH =, event_type WITH =, body_sha256 WITH =, billing.flexprice_redelivery_window(occurred_at) WITH &&
) WHERE (provider = 'flexprice');
DROP INDEX billing.events_flexprice_body;

-- One money format: plain decimal with at least the currency's minor-unit digits and no zeros
-- beyond them (0.1 USD → 0.10, 0.125 → 0.125, 500 JPY → 500, 1.5 KWD → 1.500); never rounded.
-- Mirrors Currency.minorUnitDigits in Swift (a test compares the two).
CREATE FUNCTION billing.minor_unit_digits(currency text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN currency IS NULL THEN NULL
        WHEN currency IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND',
                          'VUV', 'XAF', 'XOF', 'XPF') THEN 0
        WHEN currency IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
        ELSE 2 END
$$;

-- A SQL-standard body (RETURN, not a $$ string): it is parsed here, binding billing.minor_unit_digits by
-- oid, so an analyst without USAGE on schema billing can still read the views that call it (a string
-- body is parsed at each call as the caller, and its lookup of billing.* fails with 42501).
CREATE FUNCTION billing.money(amount numeric, currency text) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN currency IS NULL THEN amount
    ELSE round(trim_scale(amount), greatest(scale(trim_scale(amount)), billing.minor_unit_digits(currency))) END;
COMMENT ON FUNCTION billing.money(numeric, text) IS
    'An amount as the API and analytics show it: at least the currency''s minor-unit digits, never rounded';

CREATE OR REPLACE VIEW analytics.events AS
SELECT e.position, e.id AS event_id, e.provider, e.environment, e.event_type, e.entity_kind, e.entity_provider_id,
       e.customer_provider_id, billing.read_model_id('customers', e.provider, e.environment, e.customer_provider_id) AS customer_id,
       e.occurred_at, e.received_at, billing.event_time(e.occurred_at, e.received_at) AS event_time, e.as_of,
       billing.money(e.amount, e.currency) AS amount, e.currency, e.channel, e.source, e.provider_event_id, e.delivery_id,
       e.delivered_at
FROM billing.events e;

CREATE OR REPLACE VIEW analytics.subscriptions AS
SELECT id AS subscription_id, provider, environment, provider_id, external_id, customer_id, customer_provider_id, status,
       provider_status, plan_id, lookup_key, billing.money(amount, currency) AS amount, currency, billing_period,
       billing_period_count, billing_cadence, billing_interval_days,
       billing.money(billing.monthly_amount(amount, billing_period, billing_period_count, billing_interval_days), currency) AS monthly_amount,
       start_date, end_date, current_period_start, current_period_end, cancel_at, cancelled_at, cancel_at_period_end,
       trial_start, trial_end, pause_status, last_payment_id, last_payment_status,
       billing.money(last_payment_amount, currency) AS last_payment_amount, metadata, created_at, first_seen_at, updated_at
FROM billing.subscriptions;

CREATE OR REPLACE VIEW analytics.payments AS
SELECT id AS payment_id, provider, environment, provider_id, external_id, customer_id, customer_provider_id, status,
       provider_status, billing.money(amount, currency) AS amount, currency, billing.money(amount_refunded, currency) AS amount_refunded,
       billing.money(amount_refundable, currency) AS amount_refundable, failure_code, failure_message, card_brand,
       card_last4, payment_method_type, payment_gateway, invoice_number, succeeded_at, failed_at, refunded_at, voided_at,
       created_at, first_seen_at, updated_at
FROM billing.payments;

CREATE OR REPLACE VIEW analytics.refunds AS
SELECT id AS refund_id, provider, environment, provider_id, external_id, payment_id, payment_provider_id, status,
       provider_status, billing.money(amount, currency) AS amount, currency, reason, failure_reason, created_at, first_seen_at,
       updated_at
FROM billing.refunds;

-- Credits (credit_balance, credit_amount…) and conversion rates are not currency amounts: exact as given.
CREATE OR REPLACE VIEW analytics.wallets AS
SELECT id AS wallet_id, provider, environment, provider_id, customer_id, customer_provider_id, owner_environment_id, name,
       status, provider_status, wallet_type, currency, billing.money(balance, currency) AS balance, credit_balance,
       billing.money(held, currency) AS held, conversion_rate, credit_balance_alert_state, ongoing_balance_alert_state,
       metadata, created_at, first_seen_at, updated_at
FROM billing.wallets;

CREATE OR REPLACE VIEW analytics.wallet_transactions AS
SELECT id AS wallet_transaction_id, provider, environment, provider_id, wallet_id, wallet_provider_id, customer_id,
       customer_provider_id, transaction_type, status, provider_status, billing.money(amount, currency) AS amount,
       credit_amount, credit_balance_before, credit_balance_after, currency, reason, reference_type, reference_id,
       description, expiry_date, created_at, first_seen_at, updated_at
FROM billing.wallet_transactions;

CREATE OR REPLACE VIEW analytics.subscription_history AS
WITH ordered AS (
    SELECT v.*,
           ROW(v.status, v.provider_status, v.plan_id, v.amount, v.currency, v.billing_period, v.billing_period_count,
               v.billing_interval_days, v.current_period_start, v.current_period_end, v.cancel_at, v.cancelled_at,
               v.cancel_at_period_end, v.trial_start, v.trial_end, v.pause_status)::text AS state
    FROM billing.subscription_versions v
), changes AS (
    SELECT o.*, lag(o.state) OVER (PARTITION BY o.id ORDER BY o.as_of, o.rank, o.event_id) AS previous
    FROM ordered o
), states AS (
    SELECT c.*, lead(c.as_of) OVER (PARTITION BY c.id ORDER BY c.as_of, c.rank, c.event_id) AS next_as_of
    FROM changes c WHERE c.previous IS DISTINCT FROM c.state
)
SELECT s.id AS subscription_id, t.provider, t.environment, t.provider_id, s.customer_id, s.status, s.provider_status,
       s.plan_id, billing.money(s.amount, s.currency) AS amount, s.currency, s.billing_period, s.billing_period_count,
       s.billing_interval_days,
       billing.money(billing.monthly_amount(s.amount, s.billing_period, s.billing_period_count, s.billing_interval_days), s.currency) AS monthly_amount,
       s.current_period_start, s.current_period_end, s.cancel_at, s.cancelled_at, s.cancel_at_period_end, s.trial_start,
       s.trial_end, s.pause_status, s.as_of AS valid_from, s.next_as_of AS valid_to, s.event_id
FROM states s JOIN billing.subscriptions t ON t.id = s.id
WHERE s.next_as_of IS DISTINCT FROM s.as_of;

CREATE OR REPLACE VIEW analytics.payment_history AS
WITH timeline AS (
    SELECT v.id AS payment_id, v.as_of, v.rank, v.event_id, v.register, v.provider_status, v.provider_amount_refunded,
           v.amount, v.currency, 0::numeric AS refund_delta, 0 AS refunds
    FROM billing.payment_versions v
    UNION ALL
    SELECT r.payment_id, r.as_of, r.rank, r.event_id, 'refund', NULL, NULL, NULL, NULL,
           CASE WHEN r.status = 'succeeded' THEN r.amount ELSE 0 END
               - COALESCE(lag(CASE WHEN r.status = 'succeeded' THEN r.amount ELSE 0 END)
                          OVER (PARTITION BY r.id ORDER BY r.as_of, r.rank, r.event_id), 0),
           (CASE WHEN r.status = 'succeeded' THEN 1 ELSE 0 END)
               - COALESCE(lag(CASE WHEN r.status = 'succeeded' THEN 1 ELSE 0 END)
                          OVER (PARTITION BY r.id ORDER BY r.as_of, r.rank, r.event_id), 0)
    FROM billing.refund_versions r WHERE r.payment_id IS NOT NULL
), running AS (
    SELECT t.*,
           count(*) FILTER (WHERE t.register = 'status') OVER w AS status_group,
           count(*) FILTER (WHERE t.register = 'details') OVER w AS details_group,
           sum(t.refund_delta) OVER w AS refund_sum, sum(t.refunds) OVER w AS succeeded_refunds
    FROM timeline t
    WINDOW w AS (PARTITION BY t.payment_id ORDER BY t.as_of, t.rank, t.event_id, t.register ROWS UNBOUNDED PRECEDING)
), filled AS (
    SELECT r.payment_id, r.as_of, r.rank, r.event_id, r.register,
           max(r.provider_status) OVER (PARTITION BY r.payment_id, r.status_group) AS provider_status,
           max(r.provider_amount_refunded) OVER (PARTITION BY r.payment_id, r.status_group) AS provider_amount_refunded,
           max(r.amount) OVER (PARTITION BY r.payment_id, r.details_group) AS amount,
           max(r.currency) OVER (PARTITION BY r.payment_id, r.details_group) AS currency,
           CASE WHEN r.succeeded_refunds > 0 THEN r.refund_sum END AS refund_sum
    FROM running r
), derived AS (
    SELECT f.*, GREATEST(f.provider_amount_refunded, f.refund_sum) AS amount_refunded,
           billing.payment_status(f.provider_status) AS base
    FROM filled f
), states AS (
    SELECT d.*,
           CASE WHEN d.base IN ('succeeded', 'partially_refunded', 'refunded') AND COALESCE(d.amount_refunded, 0) > 0
                THEN CASE WHEN d.amount IS NOT NULL AND d.amount_refunded >= d.amount THEN 'refunded' ELSE 'partially_refunded' END
                ELSE d.base END AS status
    FROM derived d
), changes AS (
    SELECT s.*, lag(ROW(s.status, s.provider_status, s.amount, s.currency, s.amount_refunded)::text)
                    OVER (PARTITION BY s.payment_id ORDER BY s.as_of, s.rank, s.event_id, s.register) AS previous,
           ROW(s.status, s.provider_status, s.amount, s.currency, s.amount_refunded)::text AS state
    FROM states s
), kept AS (
    SELECT c.*, lead(c.as_of) OVER (PARTITION BY c.payment_id ORDER BY c.as_of, c.rank, c.event_id, c.register) AS next_as_of
    FROM changes c WHERE c.previous IS DISTINCT FROM c.state
)
SELECT k.payment_id, p.provider, p.environment, p.provider_id, p.customer_id, k.status, k.provider_status,
       billing.money(k.amount, k.currency) AS amount, k.currency, billing.money(k.amount_refunded, k.currency) AS amount_refunded,
       k.as_of AS valid_from, k.next_as_of AS valid_to, k.event_id
FROM kept k JOIN billing.payments p ON p.id = k.payment_id
WHERE k.next_as_of IS DISTINCT FROM k.as_of;

-- The signature headers and secret fingerprint of each event, so an operator or auditor can
-- re-verify stored bytes (billing-events events verify) without superuser SQL.
CREATE VIEW analytics.event_signatures AS
SELECT e.position, e.id AS event_id, e.provider, e.environment, e.channel, e.delivery_id, e.delivered_at,
       e.signature_headers, e.secret_fingerprint, encode(e.body_sha256, 'hex') AS body_sha256, e.received_at
FROM billing.events e;
GRANT SELECT ON analytics.event_signatures TO billing_analyst;
