-- 0005 analytics: the documented SQL surface for analysts (schema `analytics`, docs/analytics.md),
-- the version logs its history views are built from, and the role `billing_analyst`.
--
-- Version logs: the projector appends every register write of subscriptions, payments, refunds
-- and wallets as it came (one row per event and register, never merged; see ReadModelWriter), so
-- history is derived from the log by the same fold as the read models, and a rebuild refills them.
-- Ordered by (as_of, rank, event_id), the greatest version of a register is the read model's state.

CREATE TABLE billing.subscription_versions (
    id uuid NOT NULL, register text NOT NULL, as_of timestamptz NOT NULL, rank integer NOT NULL, event_id uuid NOT NULL,
    external_id text, customer_id uuid, customer_provider_id text, status text, provider_status text, plan_id text,
    lookup_key text, amount numeric, currency text, billing_period text, billing_period_count integer,
    billing_cadence text, billing_interval_days integer, start_date timestamptz, end_date timestamptz,
    current_period_start timestamptz, current_period_end timestamptz, cancel_at timestamptz, cancelled_at timestamptz,
    cancel_at_period_end boolean, trial_start timestamptz, trial_end timestamptz, pause_status text,
    last_payment_id text, last_payment_status text, last_payment_amount numeric, metadata jsonb,
    provider_created_at timestamptz,
    PRIMARY KEY (id, register, event_id)
);

CREATE TABLE billing.payment_versions (
    id uuid NOT NULL, register text NOT NULL, as_of timestamptz NOT NULL, rank integer NOT NULL, event_id uuid NOT NULL,
    -- register `details`
    external_id text, customer_id uuid, customer_provider_id text, amount numeric, currency text, failure_code text,
    failure_message text, card_brand text, card_last4 text, payment_method_type text, payment_gateway text,
    provider_transaction_id text, destination_type text, destination_id text, invoice_number text,
    billing_address jsonb, succeeded_at timestamptz, failed_at timestamptz, refunded_at timestamptz,
    voided_at timestamptz, provider_created_at timestamptz,
    -- register `status`
    provider_status text, provider_amount_refunded numeric, provider_amount_refundable numeric,
    PRIMARY KEY (id, register, event_id)
);

CREATE TABLE billing.refund_versions (
    id uuid NOT NULL, register text NOT NULL, as_of timestamptz NOT NULL, rank integer NOT NULL, event_id uuid NOT NULL,
    external_id text, payment_id uuid, payment_provider_id text, status text, provider_status text, amount numeric,
    currency text, reason text, failure_reason text, provider_created_at timestamptz,
    PRIMARY KEY (id, register, event_id)
);
CREATE INDEX refund_versions_payment ON billing.refund_versions (payment_id);

CREATE TABLE billing.wallet_versions (
    id uuid NOT NULL, register text NOT NULL, as_of timestamptz NOT NULL, rank integer NOT NULL, event_id uuid NOT NULL,
    -- register `state`
    customer_id uuid, customer_provider_id text, owner_environment_id text, name text, status text,
    provider_status text, wallet_type text, currency text, balance numeric, credit_balance numeric, held numeric,
    conversion_rate numeric, metadata jsonb, provider_created_at timestamptz,
    -- registers `credit_balance_alert` and `ongoing_balance_alert`
    credit_balance_alert_state text, ongoing_balance_alert_state text,
    PRIMARY KEY (id, register, event_id)
);

-- The projector replays the log once to fill the version logs (register writes are idempotent, so
-- the read models come out as they are). Each rewind holds the projection's batch lock, so a
-- runner of another instance cannot commit an older checkpoint over it.
SELECT pg_advisory_xact_lock(hashtextextended('billing-events/projection-batch/' || name, 0))
FROM (VALUES ('subscriptions'), ('payments'), ('wallets')) AS p(name) ORDER BY name;
UPDATE billing.projection_checkpoints SET transaction_id = '0', position = 0, events_applied = 0, updated_at = now()
WHERE name IN ('subscriptions', 'payments', 'wallets');

-- A recurring amount per month (a month being 365.25 / 12 days), from the billing period and count
-- (Flexprice) or the interval in days (MintCash); NULL when the cadence is unknown.
CREATE FUNCTION billing.monthly_amount(amount numeric, period text, period_count integer, interval_days integer)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT round(amount * CASE
        WHEN interval_days > 0 THEN 30.4375 / interval_days
        WHEN upper(period) = 'DAILY' THEN 30.4375 / COALESCE(NULLIF(period_count, 0), 1)
        WHEN upper(period) = 'WEEKLY' THEN 30.4375 / (7 * COALESCE(NULLIF(period_count, 0), 1))
        WHEN upper(period) = 'MONTHLY' THEN 1.0 / COALESCE(NULLIF(period_count, 0), 1)
        WHEN upper(period) = 'QUARTERLY' THEN 1.0 / (3 * COALESCE(NULLIF(period_count, 0), 1))
        WHEN upper(period) = 'HALF_YEARLY' THEN 1.0 / (6 * COALESCE(NULLIF(period_count, 0), 1))
        WHEN upper(period) IN ('ANNUAL', 'YEARLY') THEN 1.0 / (12 * COALESCE(NULLIF(period_count, 0), 1))
    END, 2)
$$;

CREATE SCHEMA IF NOT EXISTS analytics;
COMMENT ON SCHEMA analytics IS 'billing-events: documented, stable views for analysts (docs/analytics.md); changes only with a migration note';

CREATE VIEW analytics.events AS
SELECT e.position, e.id AS event_id, e.provider, e.environment, e.event_type, e.entity_kind, e.entity_provider_id,
       e.customer_provider_id, billing.read_model_id('customers', e.provider, e.environment, e.customer_provider_id) AS customer_id,
       e.occurred_at, e.received_at, billing.event_time(e.occurred_at, e.received_at) AS event_time, e.as_of,
       e.amount, e.currency, e.channel, e.source, e.provider_event_id, e.delivery_id, e.delivered_at
FROM billing.events e;

CREATE VIEW analytics.customers AS
SELECT id AS customer_id, provider, environment, provider_id, external_id, name, email, phone, timezone, address, metadata,
       deleted, created_at, first_seen_at, updated_at
FROM billing.customers;

CREATE VIEW analytics.subscriptions AS
SELECT id AS subscription_id, provider, environment, provider_id, external_id, customer_id, customer_provider_id, status,
       provider_status, plan_id, lookup_key, amount, currency, billing_period, billing_period_count, billing_cadence,
       billing_interval_days, billing.monthly_amount(amount, billing_period, billing_period_count, billing_interval_days) AS monthly_amount,
       start_date, end_date, current_period_start, current_period_end, cancel_at, cancelled_at, cancel_at_period_end,
       trial_start, trial_end, pause_status, last_payment_id, last_payment_status, last_payment_amount, metadata,
       created_at, first_seen_at, updated_at
FROM billing.subscriptions;

CREATE VIEW analytics.payments AS
SELECT id AS payment_id, provider, environment, provider_id, external_id, customer_id, customer_provider_id, status,
       provider_status, amount, currency, amount_refunded, amount_refundable, failure_code, failure_message, card_brand,
       card_last4, payment_method_type, payment_gateway, invoice_number, succeeded_at, failed_at, refunded_at, voided_at,
       created_at, first_seen_at, updated_at
FROM billing.payments;

CREATE VIEW analytics.refunds AS
SELECT id AS refund_id, provider, environment, provider_id, external_id, payment_id, payment_provider_id, status,
       provider_status, amount, currency, reason, failure_reason, created_at, first_seen_at, updated_at
FROM billing.refunds;

CREATE VIEW analytics.wallets AS
SELECT id AS wallet_id, provider, environment, provider_id, customer_id, customer_provider_id, owner_environment_id, name,
       status, provider_status, wallet_type, currency, balance, credit_balance, held, conversion_rate,
       credit_balance_alert_state, ongoing_balance_alert_state, metadata, created_at, first_seen_at, updated_at
FROM billing.wallets;

CREATE VIEW analytics.wallet_transactions AS
SELECT id AS wallet_transaction_id, provider, environment, provider_id, wallet_id, wallet_provider_id, customer_id,
       customer_provider_id, transaction_type, status, provider_status, amount, credit_amount, credit_balance_before,
       credit_balance_after, currency, reason, reference_type, reference_id, description, expiry_date, created_at,
       first_seen_at, updated_at
FROM billing.wallet_transactions;

-- One row per state: versions in order, a row only where the state differs from the one before,
-- valid until the next row; a state superseded at the very instant it began is left out.
CREATE VIEW analytics.subscription_history AS
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
       s.plan_id, s.amount, s.currency, s.billing_period, s.billing_period_count, s.billing_interval_days,
       billing.monthly_amount(s.amount, s.billing_period, s.billing_period_count, s.billing_interval_days) AS monthly_amount,
       s.current_period_start, s.current_period_end, s.cancel_at, s.cancelled_at, s.cancel_at_period_end, s.trial_start,
       s.trial_end, s.pause_status, s.as_of AS valid_from, s.next_as_of AS valid_to, s.event_id
FROM states s JOIN billing.subscriptions t ON t.id = s.id
WHERE s.next_as_of IS DISTINCT FROM s.as_of;

-- A payment's state at each change: its provider status (register `status`), amount (register
-- `details`) and the succeeded amounts of its refunds (each refund counted by its latest version
-- so far), combined exactly as the projector derives the payment's status and refunded amount.
CREATE VIEW analytics.payment_history AS
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
SELECT k.payment_id, p.provider, p.environment, p.provider_id, p.customer_id, k.status, k.provider_status, k.amount,
       k.currency, k.amount_refunded, k.as_of AS valid_from, k.next_as_of AS valid_to, k.event_id
FROM kept k JOIN billing.payments p ON p.id = k.payment_id
WHERE k.next_as_of IS DISTINCT FROM k.as_of;

-- Balance after each wallet transaction (Flexprice), and after each balance snapshot of wallets
-- that have no transactions (mintfax credit balances).
CREATE VIEW analytics.wallet_balance_history AS
SELECT t.wallet_id, w.provider, w.environment, w.provider_id AS wallet_provider_id, w.customer_id, 'transaction' AS source,
       t.id AS wallet_transaction_id, t.created_at AS at, t.transaction_type, t.status, t.credit_amount,
       t.credit_balance_before AS balance_before, t.credit_balance_after AS balance_after, w.currency
FROM billing.wallet_transactions t JOIN billing.wallets w ON w.id = t.wallet_id
UNION ALL
SELECT v.id, w.provider, w.environment, w.provider_id, w.customer_id, 'snapshot', NULL, v.as_of, NULL, v.status,
       v.credit_balance - lag(v.credit_balance) OVER (PARTITION BY v.id ORDER BY v.as_of, v.rank, v.event_id),
       lag(v.credit_balance) OVER (PARTITION BY v.id ORDER BY v.as_of, v.rank, v.event_id), v.credit_balance, v.currency
FROM billing.wallet_versions v JOIN billing.wallets w ON w.id = v.id
WHERE v.register = 'state' AND NOT EXISTS (SELECT 1 FROM billing.wallet_transactions t WHERE t.wallet_id = v.id);

-- How fresh the data is: per provider and environment, the newest event; per projection, how far
-- its read models trail the log.
CREATE VIEW analytics.freshness AS
SELECT 'provider' AS kind, p.provider, p.environment, NULL::text AS projection, l.last_received_at, l.last_occurred_at,
       NULL::bigint AS events_behind, NULL::double precision AS seconds_behind
FROM (SELECT DISTINCT provider, environment FROM (VALUES ('flexprice'), ('mintcash'), ('mintfax')) AS a(provider)
      CROSS JOIN (VALUES ('live'), ('test')) AS b(environment)) AS p,
     LATERAL (SELECT max(e.received_at) AS last_received_at, max(e.occurred_at) AS last_occurred_at FROM billing.events e
              WHERE e.provider = p.provider AND e.environment = p.environment) AS l
WHERE l.last_received_at IS NOT NULL
UNION ALL
SELECT 'projection', NULL, NULL, c.name, NULL, NULL, lag.behind,
       COALESCE(EXTRACT(EPOCH FROM now() - lag.oldest)::double precision, 0)
FROM billing.projection_checkpoints c,
     LATERAL (SELECT count(*) AS behind, min(e.received_at) AS oldest FROM billing.events e
              WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)
                AND CASE c.name
                        WHEN 'customers' THEN e.entity_kind = 'customer' OR e.customer_provider_id IS NOT NULL
                        WHEN 'subscriptions' THEN e.entity_kind = 'subscription'
                        WHEN 'payments' THEN e.entity_kind IN ('payment', 'refund')
                        WHEN 'wallets' THEN e.entity_kind IN ('wallet', 'wallet_transaction', 'balance')
                        ELSE true END) AS lag;

-- Webhook requests (the bounded delivery log) and quarantined deliveries, without bodies or headers.
CREATE VIEW analytics.deliveries AS
SELECT id AS delivery_log_id, received_at, provider, environment, outcome, http_status, reason, body_bytes, delivery_id, event_id
FROM billing.deliveries;

CREATE VIEW analytics.quarantine AS
SELECT id AS quarantine_id, provider, environment, reason_code, reason, delivery_id, delivered_at, channel, source, received_at,
       attempts, last_attempt_at, resolved_at, event_id
FROM billing.quarantine;

-- The analysts' role: reads `analytics`, nothing else (the views read the internal tables with
-- their owner's rights). Roles are per cluster, so another database may have created it already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'billing_analyst') THEN
        CREATE ROLE billing_analyst NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;
REVOKE ALL ON SCHEMA billing FROM PUBLIC;
GRANT USAGE ON SCHEMA analytics TO billing_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO billing_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO billing_analyst;
