-- 0004 query API: API keys, the key that signs page cursors, the stable read-model id as a SQL
-- function, and the indexes that serve every list filter in keyset order.

-- API keys for /v1/*. The token is shown once; only its SHA-256 is kept. `prefix` (the token's
-- first characters) names a key in `api-keys list` and `revoke` without revealing it.
CREATE TABLE billing.api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    prefix       text NOT NULL UNIQUE,
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Secrets the service generates for itself, shared by every instance through the database.
-- `cursor_signing_key`: HMAC-SHA256 key of page cursors (244 random bits from two v4 UUIDs).
CREATE TABLE billing.service_secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO billing.service_secrets (name, value)
VALUES ('cursor_signing_key', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- The stable id of a read-model row, exactly as the projector derives it (ReadModelTable.id):
-- a version 8 UUID from the first 16 bytes of SHA-256 of
-- 'billing-events/<table>/<provider>/<environment>/<provider id>'.
CREATE FUNCTION billing.read_model_id(tbl text, provider text, environment text, provider_id text)
RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT encode(set_byte(set_byte(h, 6, (get_byte(h, 6) & 15) | 128), 8, (get_byte(h, 8) & 63) | 128), 'hex')::uuid
    FROM (SELECT substring(sha256(convert_to('billing-events/' || tbl || '/' || provider || '/' || environment || '/' || provider_id,
                                             'UTF8')) FROM 1 FOR 16) AS h) AS hashed
$$;

-- Keyset indexes. Lists are ordered by (created_at, id) (events by position); each filter has an
-- index that leads with it and ends with the order key, so a page deep in a filtered list costs
-- what the first page costs. Other filters given together are checked on the rows that index
-- yields. provider_id, email and external_id select a handful of rows.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customers', 'subscriptions', 'payments', 'wallets', 'wallet_transactions'] LOOP
        EXECUTE format('CREATE INDEX %I ON billing.%I (provider, created_at, id)', t || '_provider', t);
        EXECUTE format('CREATE INDEX %I ON billing.%I (environment, created_at, id)', t || '_environment', t);
        EXECUTE format('CREATE INDEX %I ON billing.%I (provider_id, created_at, id)', t || '_provider_id', t);
    END LOOP;
END $$;
CREATE INDEX customers_email ON billing.customers (lower(email), created_at, id) WHERE email IS NOT NULL;
CREATE INDEX customers_external_id ON billing.customers (external_id, created_at, id) WHERE external_id IS NOT NULL;
CREATE INDEX subscriptions_status ON billing.subscriptions (status, created_at, id);
CREATE INDEX payments_status ON billing.payments (status, created_at, id);

-- Events are listed newest first by the time they happened (occurred_at, or received_at when the
-- provider gives none), then position. The same expression is filtered by occurred_gte / _lt.
CREATE FUNCTION billing.event_time(occurred_at timestamptz, received_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT COALESCE(occurred_at, received_at) $$;
CREATE INDEX events_time ON billing.events (billing.event_time(occurred_at, received_at), position);
CREATE INDEX events_type_time ON billing.events (event_type, billing.event_time(occurred_at, received_at), position);
CREATE INDEX events_provider_time ON billing.events (provider, billing.event_time(occurred_at, received_at), position);
DROP INDEX billing.events_customer;
CREATE INDEX events_customer_time ON billing.events (provider, customer_provider_id, billing.event_time(occurred_at, received_at), position)
    WHERE customer_provider_id IS NOT NULL;
