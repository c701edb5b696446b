-- 0003 read models: customers, subscriptions, payments with refunds, wallets with wallet
-- transactions, the projections' checkpoints and their dead letters.
--
-- Every read-model row is keyed by a stable id derived from (table, provider, environment,
-- provider id), so a rebuild produces the same ids. State arrives in "registers": a group of
-- columns written together by one kind of event, with the version that wrote it
-- (<register>_as_of, <register>_rank, <register>_event_id). A register is overwritten only by a
-- strictly greater version, so any delivery order and any number of duplicates converge to the
-- same row (docs/projections.md has the rules per provider).
--   first_seen_at  earliest "as of" of any event about or naming the entity (LEAST)
--   updated_at     freshest "as of" of any event about or naming the entity (GREATEST)
--   created_at     the provider's creation time when a snapshot carries one, else first_seen_at

CREATE TABLE billing.customers (
    id                  uuid PRIMARY KEY,
    provider            text NOT NULL,
    environment         text NOT NULL,
    provider_id         text NOT NULL,
    external_id         text,
    name                text,
    email               text,
    phone               text,
    timezone            text,
    address             jsonb,
    metadata            jsonb,
    deleted             boolean NOT NULL DEFAULT false,
    provider_created_at timestamptz,
    first_seen_at       timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    state_as_of         timestamptz,
    state_rank          integer,
    state_event_id      uuid,
    UNIQUE (provider, environment, provider_id)
);

CREATE TABLE billing.subscriptions (
    id                    uuid PRIMARY KEY,
    provider              text NOT NULL,
    environment           text NOT NULL,
    provider_id           text NOT NULL,
    external_id           text,
    customer_id           uuid,
    customer_provider_id  text,
    status                text,
    provider_status       text,
    plan_id               text,
    lookup_key            text,
    amount                numeric,
    currency              text,
    billing_period        text,
    billing_period_count  integer,
    billing_cadence       text,
    billing_interval_days integer,
    start_date            timestamptz,
    end_date              timestamptz,
    current_period_start  timestamptz,
    current_period_end    timestamptz,
    cancel_at             timestamptz,
    cancelled_at          timestamptz,
    cancel_at_period_end  boolean,
    trial_start           timestamptz,
    trial_end             timestamptz,
    pause_status          text,
    last_payment_id       text,
    last_payment_status   text,
    last_payment_amount   numeric,
    metadata              jsonb,
    provider_created_at   timestamptz,
    first_seen_at         timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    created_at            timestamptz NOT NULL,
    state_as_of           timestamptz,
    state_rank            integer,
    state_event_id        uuid,
    UNIQUE (provider, environment, provider_id)
);

CREATE TABLE billing.payments (
    id                       uuid PRIMARY KEY,
    provider                 text NOT NULL,
    environment              text NOT NULL,
    provider_id              text NOT NULL,
    external_id              text,
    customer_id              uuid,
    customer_provider_id     text,
    status                   text,
    provider_status          text,
    amount                   numeric,
    currency                 text,
    amount_refunded          numeric,
    amount_refundable        numeric,
    provider_amount_refunded numeric,
    provider_amount_refundable numeric,
    failure_code             text,
    failure_message          text,
    card_brand               text,
    card_last4               text,
    payment_method_type      text,
    payment_gateway          text,
    provider_transaction_id  text,
    destination_type         text,
    destination_id           text,
    invoice_number           text,
    billing_address          jsonb,
    succeeded_at             timestamptz,
    failed_at                timestamptz,
    refunded_at              timestamptz,
    voided_at                timestamptz,
    provider_created_at      timestamptz,
    first_seen_at            timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    created_at               timestamptz NOT NULL,
    details_as_of            timestamptz,
    details_rank             integer,
    details_event_id         uuid,
    status_as_of             timestamptz,
    status_rank              integer,
    status_event_id          uuid,
    UNIQUE (provider, environment, provider_id)
);

CREATE TABLE billing.refunds (
    id                  uuid PRIMARY KEY,
    provider            text NOT NULL,
    environment         text NOT NULL,
    provider_id         text NOT NULL,
    external_id         text,
    payment_id          uuid,
    payment_provider_id text,
    status              text,
    provider_status     text,
    amount              numeric,
    currency            text,
    reason              text,
    failure_reason      text,
    provider_created_at timestamptz,
    first_seen_at       timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    state_as_of         timestamptz,
    state_rank          integer,
    state_event_id      uuid,
    UNIQUE (provider, environment, provider_id)
);

CREATE TABLE billing.wallets (
    id                          uuid PRIMARY KEY,
    provider                    text NOT NULL,
    environment                 text NOT NULL,
    provider_id                 text NOT NULL,
    customer_id                 uuid,
    customer_provider_id        text,
    owner_environment_id        text,
    name                        text,
    status                      text,
    provider_status             text,
    wallet_type                 text,
    currency                    text,
    balance                     numeric,
    credit_balance              numeric,
    held                        numeric,
    conversion_rate             numeric,
    metadata                    jsonb,
    credit_balance_alert_state  text,
    credit_balance_alert_as_of  timestamptz,
    credit_balance_alert_rank   integer,
    credit_balance_alert_event_id uuid,
    ongoing_balance_alert_state text,
    ongoing_balance_alert_as_of timestamptz,
    ongoing_balance_alert_rank  integer,
    ongoing_balance_alert_event_id uuid,
    provider_created_at         timestamptz,
    first_seen_at               timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL,
    created_at                  timestamptz NOT NULL,
    state_as_of                 timestamptz,
    state_rank                  integer,
    state_event_id              uuid,
    UNIQUE (provider, environment, provider_id)
);

CREATE TABLE billing.wallet_transactions (
    id                    uuid PRIMARY KEY,
    provider              text NOT NULL,
    environment           text NOT NULL,
    provider_id           text NOT NULL,
    wallet_id             uuid,
    wallet_provider_id    text,
    customer_id           uuid,
    customer_provider_id  text,
    transaction_type      text,
    status                text,
    provider_status       text,
    amount                numeric,
    credit_amount         numeric,
    credit_balance_before numeric,
    credit_balance_after  numeric,
    currency              text,
    reason                text,
    reference_type        text,
    reference_id          text,
    description           text,
    expiry_date           timestamptz,
    metadata              jsonb,
    provider_created_at   timestamptz,
    first_seen_at         timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    created_at            timestamptz NOT NULL,
    state_as_of           timestamptz,
    state_rank            integer,
    state_event_id        uuid,
    UNIQUE (provider, environment, provider_id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customers', 'subscriptions', 'payments', 'refunds', 'wallets', 'wallet_transactions'] LOOP
        EXECUTE format('CREATE INDEX %I ON billing.%I (created_at, id)', t || '_created', t);
    END LOOP;
END $$;
CREATE INDEX subscriptions_customer ON billing.subscriptions (customer_id, created_at, id);
CREATE INDEX payments_customer ON billing.payments (customer_id, created_at, id);
CREATE INDEX refunds_payment ON billing.refunds (payment_id);
CREATE INDEX wallets_customer ON billing.wallets (customer_id, created_at, id);
CREATE INDEX wallet_transactions_wallet ON billing.wallet_transactions (wallet_id, created_at, id);

-- One row per projection: how far it has read the log (commit order) and who runs it.
CREATE TABLE billing.projection_checkpoints (
    name            text PRIMARY KEY,
    transaction_id  xid8 NOT NULL DEFAULT '0',
    position        bigint NOT NULL DEFAULT 0,
    events_applied  bigint NOT NULL DEFAULT 0,
    owner           text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    rebuilt_at      timestamptz
);

-- Events whose fold kept failing after retries; the projection moved past them.
CREATE TABLE billing.projection_dead_letters (
    projection      text NOT NULL,
    event_id        uuid NOT NULL,
    transaction_id  xid8 NOT NULL,
    position        bigint NOT NULL,
    event_type      text NOT NULL,
    error           text NOT NULL,
    attempts        integer NOT NULL,
    failed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, event_id)
);

-- The normalized payment status for a provider's verbatim status (refunds can still move a
-- succeeded payment to partially_refunded / refunded: see the projector's derive step).
CREATE FUNCTION billing.payment_status(provider_status text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN provider_status IS NULL THEN NULL
        WHEN lower(provider_status) IN ('created', 'initiated') THEN 'created'
        WHEN lower(provider_status) = 'overpaid' THEN 'succeeded'
        WHEN lower(provider_status) IN ('pending', 'processing', 'authorized', 'succeeded', 'failed', 'voided',
                                        'partially_refunded', 'refunded') THEN lower(provider_status)
        ELSE 'unknown'
    END
$$;

INSERT INTO billing.projection_checkpoints (name)
VALUES ('customers'), ('subscriptions'), ('payments'), ('wallets');
