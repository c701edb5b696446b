-- 0011 partitioned log: billing.events becomes a table partitioned by month of
-- billing.event_time(occurred_at, received_at), and exactly-once moves to an unpartitioned key table.
--
-- Why that key: analysts and /v1/events select ranges of event_time (the provider's time, else the
-- receive time), so those ranges prune to their months; backfilled history lands in the month it
-- happened in, where an archive of that month finds it. An expression key needs no new column, so an
-- existing log is attached as it is (no rewrite). The price: a unique index of a partitioned table
-- must contain the partition key, which an expression cannot be part of, so no uniqueness is
-- enforced on billing.events itself: billing.event_keys holds it, written in the same statement.
--
-- Upgrade in place: the existing table, when it holds events, becomes the partition
-- billing.events_legacy for every time before the first month boundary after its newest event and
-- after now; monthly partitions follow. Writes wait for this migration's lock: the key table is
-- filled from the log (about 10 s per million events, measured; docs/deployment.md), the rest takes
-- milliseconds. Receivers answer 503 if it outlasts their deadline; an acknowledgement is never lost.
LOCK TABLE billing.events IN ACCESS EXCLUSIVE MODE;

-- Positions come from a sequence of their own (an identity belongs to one table).
CREATE SEQUENCE billing.event_positions AS bigint;
SELECT setval('billing.event_positions', COALESCE(pg_sequence_last_value('billing.events_position_seq'), 0) + 1, false);

-- One row per stored event, archived ones included: the (provider, dedupe_key) and event id of
-- every event ever stored, its position and event time (which locate its partition), and for
-- Flexprice the body hash, type and message time of the redelivery window (0008).
CREATE TABLE billing.event_keys (
    provider    text NOT NULL,
    dedupe_key  text NOT NULL,
    event_id    uuid NOT NULL,
    position    bigint NOT NULL,
    event_time  timestamptz NOT NULL,
    environment text,
    event_type  text,
    body_sha256 bytea,
    occurred_at timestamptz,
    CONSTRAINT event_keys_pkey PRIMARY KEY (provider, dedupe_key),
    CONSTRAINT event_keys_event_id UNIQUE (event_id),
    CONSTRAINT event_keys_flexprice CHECK (provider <> 'flexprice' OR (environment IS NOT NULL AND event_type IS NOT NULL
        AND body_sha256 IS NOT NULL)),
    CONSTRAINT event_keys_flexprice_redelivery EXCLUDE USING gist (
        environment WITH =, event_type WITH =, body_sha256 WITH =, billing.flexprice_redelivery_window(occurred_at) WITH &&
    ) WHERE (provider = 'flexprice')
);
COMMENT ON TABLE billing.event_keys IS
    'Exactly-once across partitions: one row per event ever stored (archived ones too), written with it; the log''s unique keys';

INSERT INTO billing.event_keys (provider, dedupe_key, event_id, position, event_time, environment, event_type, body_sha256, occurred_at)
SELECT provider, dedupe_key, id, position, billing.event_time(occurred_at, received_at),
       CASE WHEN provider = 'flexprice' THEN environment END, CASE WHEN provider = 'flexprice' THEN event_type END,
       CASE WHEN provider = 'flexprice' THEN body_sha256 END, CASE WHEN provider = 'flexprice' THEN occurred_at END
FROM billing.events;

-- The views over the log are bound to the table, not its name: keep their text to bind them anew.
CREATE TEMP TABLE log_views ON COMMIT DROP AS
SELECT DISTINCT v.oid::regclass::text AS name, pg_get_viewdef(v.oid) AS definition
FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
WHERE d.refobjid = 'billing.events'::regclass AND v.oid <> 'billing.events'::regclass;

ALTER TABLE billing.events RENAME TO events_legacy;
ALTER TABLE billing.events_legacy ALTER COLUMN position DROP IDENTITY;
ALTER TABLE billing.events_legacy DROP CONSTRAINT events_dedupe, DROP CONSTRAINT events_flexprice_redelivery,
    DROP CONSTRAINT events_id_key, DROP CONSTRAINT events_pkey;
DROP TRIGGER events_append_only ON billing.events_legacy;
DROP TRIGGER events_notify ON billing.events_legacy;
ALTER INDEX billing.events_transaction_position RENAME TO events_legacy_transaction_position;
ALTER INDEX billing.events_entity RENAME TO events_legacy_entity;
ALTER INDEX billing.events_received RENAME TO events_legacy_received;
ALTER INDEX billing.events_list RENAME TO events_legacy_list;
ALTER INDEX billing.events_type_list RENAME TO events_legacy_type_list;
ALTER INDEX billing.events_customer_list RENAME TO events_legacy_customer_list;
ALTER INDEX billing.events_time_brin RENAME TO events_legacy_time_brin;

CREATE TABLE billing.events (LIKE billing.events_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS)
    PARTITION BY RANGE (billing.event_time(occurred_at, received_at));
-- No default position: every writer takes it from billing.event_positions with the event's key
-- (EventsTable). A writer that predates this migration (an old receiver still running during a
-- rolling upgrade) names no position, so its insert fails (23502) instead of storing an event
-- without a key, which could duplicate one: its request fails, the provider retries, and an
-- upgraded instance stores the event once.
ALTER SEQUENCE billing.event_positions OWNED BY billing.events.position;
COMMENT ON TABLE billing.events IS
    'Append-only log of verified provider events, one partition per month of event_time; raw_body is the exact request body';

CREATE INDEX events_position ON billing.events (position);
CREATE INDEX events_transaction_position ON billing.events (transaction_id, position);
CREATE INDEX events_entity ON billing.events (provider, entity_kind, entity_provider_id);
CREATE INDEX events_received ON billing.events (received_at);
CREATE INDEX events_list ON billing.events (provider, environment, billing.event_time(occurred_at, received_at), position);
CREATE INDEX events_type_list ON billing.events (provider, environment, event_type, billing.event_time(occurred_at, received_at), position);
CREATE INDEX events_customer_list
    ON billing.events (provider, environment, customer_provider_id, billing.event_time(occurred_at, received_at), position)
    WHERE customer_provider_id IS NOT NULL;
CREATE INDEX events_time_brin ON billing.events USING brin (billing.event_time(occurred_at, received_at));

-- Append-only, as before. Partition maintenance alone moves rows out of the default partition
-- (billing.create_event_month), and says so with a transaction-local setting.
CREATE OR REPLACE FUNCTION billing.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('billing.moving_events', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'billing.events is append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON billing.events
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_event_change();
CREATE TRIGGER events_notify AFTER INSERT ON billing.events
    FOR EACH STATEMENT EXECUTE FUNCTION billing.notify_events();

-- Archived months (billing-events archive): the file and checksum of each, and when it was restored.
CREATE TABLE billing.event_archives (
    month        date PRIMARY KEY CHECK (extract(day FROM month) = 1),
    file_name    text NOT NULL,
    sha256       text NOT NULL,
    events       bigint NOT NULL,
    bytes        bigint NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    archived_by  text NOT NULL,
    -- The archive snapshot holds this month's events up to here; a later event of the month has a
    -- higher position (the partition was locked while archiving) and is replayed by a rebuild.
    last_position bigint NOT NULL,
    restored_at  timestamptz
);
COMMENT ON TABLE billing.event_archives IS 'Months of the log written to an archive file by billing-events archive and dropped';

-- Whether partition `partition` covers all of [first, next) (its bound, read from the catalogue).
CREATE FUNCTION billing.partition_covers(partition oid, first timestamptz, next timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN b.bound LIKE 'FOR VALUES FROM (MINVALUE) TO (%' THEN next <= substring(b.bound FROM 'TO \(''(.*)''\)')::timestamptz
        WHEN b.bound LIKE 'FOR VALUES FROM (''%' THEN
            first >= substring(b.bound FROM 'FROM \(''([^'']*)''\)')::timestamptz
            AND next <= substring(b.bound FROM 'TO \(''([^'']*)''\)')::timestamptz
        ELSE false END
    FROM (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE c.oid = partition) b
$$;

-- Whether a partition other than the default one covers all of [first, next).
CREATE FUNCTION billing.event_month_exists(first timestamptz, next timestamptz) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                   WHERE i.inhparent = 'billing.events'::regclass AND c.relname <> 'events_default'
                     AND billing.partition_covers(c.oid, first, next))
$$;

-- Creates the partition of the month that starts at `month` unless a partition already covers it,
-- moving the default partition's rows of that month into it first (a DEFAULT partition that holds
-- rows of a range refuses a new partition for it). CREATE TABLE + ATTACH takes SHARE UPDATE
-- EXCLUSIVE on billing.events, so inserts go on meanwhile (CREATE TABLE … PARTITION OF would wait
-- for them and block them). Returns true when it created the partition.
--
-- Moving rows races with two things, so both are locked out for the transaction's few
-- milliseconds: inserts into the default partition (EXCLUSIVE: reads go on; a row committed between
-- a copy and a delete would be lost, and one added before ATTACH would make it fail), and the
-- projectors' commit-order reads, which take this advisory lock shared before each read
-- (EventLogReader): a read planned before the ATTACH commits but run after it would see the rows
-- neither in the default partition nor in the new one, and could move its checkpoint past them.
CREATE FUNCTION billing.create_event_month(month date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    first timestamptz := date_trunc('month', month::timestamp) AT TIME ZONE 'UTC';
    next timestamptz := (date_trunc('month', month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
    name text := format('events_%s', to_char(date_trunc('month', month::timestamp), 'YYYY_MM'));
    default_partition regclass := to_regclass('billing.events_default');
BEGIN
    -- Checked before any lock (the receivers call this every minute for months that exist), and
    -- again under the lock.
    IF billing.event_month_exists(first, next) THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('billing-events/event-partitions', 0));
    IF billing.event_month_exists(first, next) THEN
        RETURN false;
    END IF;
    IF default_partition IS NOT NULL THEN
        LOCK TABLE billing.events_default IN EXCLUSIVE MODE;
    END IF;
    EXECUTE format('CREATE TABLE billing.%I (LIKE billing.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    IF default_partition IS NOT NULL THEN
        PERFORM set_config('billing.moving_events', 'on', true);
        EXECUTE format('WITH moved AS (DELETE FROM ONLY billing.events_default
                                       WHERE billing.event_time(occurred_at, received_at) >= $1
                                         AND billing.event_time(occurred_at, received_at) < $2 RETURNING *)
                        INSERT INTO billing.%I SELECT * FROM moved', name) USING first, next;
        PERFORM set_config('billing.moving_events', 'off', true);
    END IF;
    EXECUTE format('ALTER TABLE billing.events ATTACH PARTITION billing.%I FOR VALUES FROM (%L) TO (%L)', name, first, next);
    RETURN true;
END $$;
COMMENT ON FUNCTION billing.create_event_month(date) IS
    'Creates the log partition of a month (moving its rows out of the default partition); false when one covers it already';

-- The months of the default partition and of [now, now + ahead months) get their partitions.
CREATE FUNCTION billing.ensure_event_partitions(ahead integer DEFAULT 2) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    month date;
    created integer := 0;
BEGIN
    FOR month IN
        SELECT DISTINCT date_trunc('month', billing.event_time(occurred_at, received_at) AT TIME ZONE 'UTC')::date
        FROM ONLY billing.events_default
        UNION
        SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => m))::date FROM generate_series(0, ahead) m
        ORDER BY 1
    LOOP
        IF billing.create_event_month(month) THEN created := created + 1; END IF;
    END LOOP;
    RETURN created;
END $$;
COMMENT ON FUNCTION billing.ensure_event_partitions(integer) IS
    'Creates the log partitions of this month and the next `ahead`, and of every month found in the default partition';

-- The views read the partitioned table from here on.
DO $$
DECLARE view record;
BEGIN
    FOR view IN SELECT * FROM log_views LOOP
        EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', view.name, view.definition);
    END LOOP;
END $$;

DO $$
DECLARE
    boundary timestamptz := (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    newest timestamptz;
BEGIN
    IF EXISTS (SELECT 1 FROM billing.events_legacy) THEN
        SELECT max(billing.event_time(occurred_at, received_at)) INTO newest FROM billing.events_legacy;
        boundary := greatest(boundary, (date_trunc('month', newest AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC');
        -- Validated first (no write lock is needed for that), so ATTACH finds the bound proven and skips its scan.
        EXECUTE format('ALTER TABLE billing.events_legacy ADD CONSTRAINT events_legacy_range
                        CHECK (billing.event_time(occurred_at, received_at) IS NOT NULL AND billing.event_time(occurred_at, received_at) < %L)',
                       boundary);
        EXECUTE format('ALTER TABLE billing.events ATTACH PARTITION billing.events_legacy FOR VALUES FROM (MINVALUE) TO (%L)', boundary);
        ALTER TABLE billing.events_legacy DROP CONSTRAINT events_legacy_range;
    ELSE
        DROP TABLE billing.events_legacy;
    END IF;
END $$;
CREATE TABLE billing.events_default PARTITION OF billing.events DEFAULT;
SELECT billing.ensure_event_partitions();

-- Analysts: the partitions of the log (a month each, plus events_legacy from an upgrade and
-- events_default), their size, and the months archived away (docs/analytics.md).
CREATE VIEW analytics.event_months AS
SELECT COALESCE(p.month, a.month) AS month, p.relname::text AS partition, p.bound, COALESCE(p.reltuples, 0)::bigint AS estimated_events,
       COALESCE(pg_total_relation_size(p.oid), 0) AS bytes, a.archived_at, a.events AS archived_events, a.file_name AS archive_file,
       a.restored_at
FROM (SELECT to_date(substring(c.relname FROM '^events_(\d{4}_\d{2})$'), 'YYYY_MM') AS month, c.oid, c.relname,
             greatest(c.reltuples, 0) AS reltuples, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'billing.events'::regclass) p
FULL JOIN billing.event_archives a ON a.month = p.month;
GRANT SELECT ON analytics.event_months TO billing_analyst;
