-- billing-events: no-transaction
-- 0007 list indexes: every list of the query API is read per (provider, environment) pair, each
-- pair through an index that starts with both, then the list's filter and its order key; the pages
-- of the pairs are merged by the order key (QueryStore.listQuery). With a filter, the planner can
-- therefore no longer walk an index of the whole table in order and drop the rows of other
-- providers: it assumed them spread evenly over time, so a provider (or environment) whose rows are
-- older than the others' — a backfilled provider, the test environment — cost a scan of most of the
-- table per page (found by the soak: 352 ms for 21 events at 280,000 rows, now under 1 ms).
--
-- Built CONCURRENTLY so ingest and the API go on while they build; each statement is safe to run
-- again after an interruption: an index left INVALID by an interrupted build is dropped first.
-- The old indexes are dropped last, so the previous version keeps its plans during a rolling update.
DO $$
DECLARE invalid text;
BEGIN
    FOR invalid IN
        SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'billing' AND NOT i.indisvalid AND (c.relname LIKE '%\_list' OR c.relname = 'events_time_brin')
    LOOP
        EXECUTE format('DROP INDEX billing.%I', invalid);
    END LOOP;
END $$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS events_list
    ON billing.events (provider, environment, billing.event_time(occurred_at, received_at), position);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_type_list
    ON billing.events (provider, environment, event_type, billing.event_time(occurred_at, received_at), position);
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_customer_list
    ON billing.events (provider, environment, customer_provider_id, billing.event_time(occurred_at, received_at), position)
    WHERE customer_provider_id IS NOT NULL;
-- Analysts select ranges of event_time (analytics.events), which events_time served: a BRIN index
-- serves them now (rows arrive roughly in time order), and offers the planner no ordered path over
-- the whole table to misuse for a list.
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_time_brin ON billing.events USING brin (billing.event_time(occurred_at, received_at));
CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_list ON billing.customers (provider, environment, created_at, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS subscriptions_list ON billing.subscriptions (provider, environment, created_at, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS subscriptions_status_list ON billing.subscriptions (provider, environment, status, created_at, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS payments_list ON billing.payments (provider, environment, created_at, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS payments_status_list ON billing.payments (provider, environment, status, created_at, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS wallets_list ON billing.wallets (provider, environment, created_at, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS wallet_transactions_list ON billing.wallet_transactions (provider, environment, created_at, id);

-- Replaced: a (provider_id) filter is exact per pair through UNIQUE (provider, environment, provider_id).
DROP INDEX CONCURRENTLY IF EXISTS billing.events_time;
DROP INDEX CONCURRENTLY IF EXISTS billing.events_type_time;
DROP INDEX CONCURRENTLY IF EXISTS billing.events_provider_time;
DROP INDEX CONCURRENTLY IF EXISTS billing.events_customer_time;
DROP INDEX CONCURRENTLY IF EXISTS billing.subscriptions_status;
DROP INDEX CONCURRENTLY IF EXISTS billing.payments_status;
DROP INDEX CONCURRENTLY IF EXISTS billing.customers_created;
DROP INDEX CONCURRENTLY IF EXISTS billing.customers_provider;
DROP INDEX CONCURRENTLY IF EXISTS billing.customers_environment;
DROP INDEX CONCURRENTLY IF EXISTS billing.customers_provider_id;
DROP INDEX CONCURRENTLY IF EXISTS billing.subscriptions_created;
DROP INDEX CONCURRENTLY IF EXISTS billing.subscriptions_provider;
DROP INDEX CONCURRENTLY IF EXISTS billing.subscriptions_environment;
DROP INDEX CONCURRENTLY IF EXISTS billing.subscriptions_provider_id;
DROP INDEX CONCURRENTLY IF EXISTS billing.payments_created;
DROP INDEX CONCURRENTLY IF EXISTS billing.payments_provider;
DROP INDEX CONCURRENTLY IF EXISTS billing.payments_environment;
DROP INDEX CONCURRENTLY IF EXISTS billing.payments_provider_id;
DROP INDEX CONCURRENTLY IF EXISTS billing.wallets_created;
DROP INDEX CONCURRENTLY IF EXISTS billing.wallets_provider;
DROP INDEX CONCURRENTLY IF EXISTS billing.wallets_environment;
DROP INDEX CONCURRENTLY IF EXISTS billing.wallets_provider_id;
DROP INDEX CONCURRENTLY IF EXISTS billing.wallet_transactions_created;
DROP INDEX CONCURRENTLY IF EXISTS billing.wallet_transactions_provider;
DROP INDEX CONCURRENTLY IF EXISTS billing.wallet_transactions_environment;
DROP INDEX CONCURRENTLY IF EXISTS billing.wallet_transactions_provider_id;
