-- 0006 backfill: one checkpoint per imported file, so an interrupted `billing-events backfill`
-- (even by kill -9) continues where it stopped. Each batch of events commits together with the
-- checkpoint that counts it, so the counts are exact however often a run is interrupted.
CREATE TABLE billing.backfill_files (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    content_sha256 bytea NOT NULL CHECK (length(content_sha256) = 32),
    provider       text NOT NULL CHECK (provider IN ('flexprice', 'mintcash', 'mintfax')),
    environment    text NOT NULL CHECK (environment IN ('live', 'test')),
    -- '' for webhook bodies, else the entity of a snapshot file (customers, subscriptions…).
    entity         text NOT NULL DEFAULT '',
    path           text NOT NULL,
    format         text NOT NULL,
    size_bytes     bigint NOT NULL,
    batch_size     integer NOT NULL CHECK (batch_size > 0),
    records_done   bigint NOT NULL DEFAULT 0,
    last_line      bigint NOT NULL DEFAULT 0,
    inserted       bigint NOT NULL DEFAULT 0,
    duplicates     bigint NOT NULL DEFAULT 0,
    snapshots      bigint NOT NULL DEFAULT 0,
    rejected       bigint NOT NULL DEFAULT 0,
    rejects_bytes  bigint NOT NULL DEFAULT 0,
    runs           integer NOT NULL DEFAULT 1,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    CONSTRAINT backfill_files_content UNIQUE (content_sha256, provider, environment, entity)
);
COMMENT ON TABLE billing.backfill_files IS 'Checkpoint and counts of each file imported by billing-events backfill, keyed by content hash';
COMMENT ON COLUMN billing.backfill_files.records_done IS 'Records (CSV header not counted) committed so far; a resumed run skips them';
COMMENT ON COLUMN billing.backfill_files.rejects_bytes IS 'Length of FILE.rejects.ndjson that belongs to committed batches; a resumed run truncates it there';

CREATE VIEW analytics.backfills AS
SELECT id AS backfill_id, path, provider, environment, NULLIF(entity, '') AS entity, format, size_bytes,
       records_done AS records, inserted, duplicates, snapshots, rejected, runs, started_at, updated_at, completed_at
FROM billing.backfill_files;
GRANT SELECT ON analytics.backfills TO billing_analyst;
