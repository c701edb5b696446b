-- 0002 event log: every verified webhook body exactly once, the quarantine for bodies that were
-- verified but not understood, and a bounded log of every delivery attempt.

-- The append-only log. `position` orders events within a transaction; `transaction_id` (xid8)
-- orders transactions by commit visibility: a projector reads
--   WHERE (transaction_id, position) > (checkpoint) AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
-- and so never passes an event whose transaction is still in flight (positions from a sequence
-- become visible out of order under concurrent writers).
CREATE TABLE billing.events (
    position             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    id                   uuid NOT NULL UNIQUE,
    provider             text NOT NULL CHECK (provider IN ('flexprice', 'mintcash', 'mintfax')),
    environment          text NOT NULL CHECK (environment IN ('live', 'test')),
    event_type           text NOT NULL,
    entity_kind          text NOT NULL CHECK (entity_kind IN ('customer', 'subscription', 'wallet', 'wallet_transaction',
                             'payment', 'refund', 'invoice', 'credit_note', 'balance', 'fax', 'other')),
    entity_provider_id   text,
    customer_provider_id text,
    occurred_at          timestamptz,
    as_of                timestamptz NOT NULL,
    amount               numeric,
    currency             text CHECK (currency ~ '^[A-Z]{3}$'),
    dedupe_key           text NOT NULL,
    provider_event_id    text,
    body_sha256          bytea NOT NULL CHECK (length(body_sha256) = 32),
    raw_body             bytea NOT NULL,
    signature_headers    jsonb NOT NULL DEFAULT '{}',
    secret_fingerprint   text,
    channel              text NOT NULL CHECK (channel IN ('webhook', 'backfill', 'snapshot')),
    source               text,
    delivery_id          text,
    delivered_at         timestamptz,
    received_at          timestamptz NOT NULL,
    CONSTRAINT events_dedupe UNIQUE (provider, dedupe_key)
);
-- Flexprice can re-send one event under a new svix-id: an identical body of the same type is the
-- same event.
CREATE UNIQUE INDEX events_flexprice_body ON billing.events (provider, event_type, body_sha256)
    WHERE provider = 'flexprice';
CREATE INDEX events_transaction_position ON billing.events (transaction_id, position);
CREATE INDEX events_entity ON billing.events (provider, entity_kind, entity_provider_id);
CREATE INDEX events_customer ON billing.events (provider, customer_provider_id) WHERE customer_provider_id IS NOT NULL;
CREATE INDEX events_received ON billing.events (received_at);

COMMENT ON TABLE billing.events IS 'Append-only log of verified provider events; raw_body is the exact request body';
COMMENT ON COLUMN billing.events.as_of IS 'Freshness of the body''s state for last-writer-wins (MintCash data.updatedAt else createdAt; mintfax created; Flexprice entity updated_at, else Svix message time, else delivery timestamp)';
COMMENT ON COLUMN billing.events.dedupe_key IS 'mintfax id, MintCash eventId, Flexprice svix-id (or sha256:<body hash> for an export line without one)';

-- Append-only: updates and deletes are refused (TRUNCATE stays possible for a deliberate reset).
CREATE FUNCTION billing.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing.events is append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON billing.events
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_event_change();

-- Listeners (projectors) wake on commit; one notification per inserting statement.
CREATE FUNCTION billing.notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('billing_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON billing.events
    FOR EACH STATEMENT EXECUTE FUNCTION billing.notify_events();

-- Verified deliveries that could not be normalized. Kept with the exact body and headers so they
-- can be re-processed (`billing-events quarantine retry`) once the cause is fixed.
CREATE TABLE billing.quarantine (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider           text NOT NULL,
    environment        text NOT NULL,
    environment_explicit boolean NOT NULL,
    reason_code        text NOT NULL,
    reason             text NOT NULL,
    delivery_key       text NOT NULL,
    delivery_id        text,
    delivered_at       timestamptz,
    body_sha256        bytea NOT NULL,
    raw_body           bytea NOT NULL,
    signature_headers  jsonb NOT NULL DEFAULT '{}',
    secret_fingerprint text,
    channel            text NOT NULL,
    source             text,
    received_at        timestamptz NOT NULL,
    attempts           integer NOT NULL DEFAULT 1,
    last_attempt_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at        timestamptz,
    event_id           uuid,
    CONSTRAINT quarantine_delivery UNIQUE (provider, delivery_key)
);
CREATE INDEX quarantine_open ON billing.quarantine (id) WHERE resolved_at IS NULL;
COMMENT ON TABLE billing.quarantine IS 'Verified deliveries that were not understood; resolved_at/event_id set when a retry stored them';

-- One row per webhook request, accepted or refused; pruned to the newest DELIVERY_LOG_LIMIT rows.
CREATE TABLE billing.deliveries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  timestamptz NOT NULL,
    provider     text NOT NULL,
    environment  text,
    outcome      text NOT NULL CHECK (outcome IN ('stored', 'duplicate', 'quarantined', 'refused', 'too_large',
                     'unsupported_media_type', 'method_not_allowed', 'unknown_provider', 'unavailable')),
    http_status  integer NOT NULL,
    reason       text,
    body_bytes   bigint NOT NULL,
    delivery_id  text,
    event_id     uuid,
    quarantine_id bigint
);
CREATE INDEX deliveries_provider ON billing.deliveries (provider, id);
COMMENT ON TABLE billing.deliveries IS 'Bounded log of webhook requests (accepted and refused) for operators';
