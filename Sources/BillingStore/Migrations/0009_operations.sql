-- 0009 operations: quarantine entries can be dismissed (who, when and why kept for audit), and
-- every backfill run keeps its own row instead of overwriting the file's first run.

-- A dismissed entry is closed like one a retry stored (resolved_at set, so it leaves the open
-- count, the `quarantine_open` index and retries) but has no event; the reason is required.
ALTER TABLE billing.quarantine
    ADD COLUMN dismissed_at timestamptz,
    ADD COLUMN dismissed_by text,
    ADD COLUMN dismissed_reason text,
    ADD CONSTRAINT quarantine_dismissal CHECK (
        (dismissed_at IS NULL AND dismissed_by IS NULL AND dismissed_reason IS NULL)
        OR (dismissed_at IS NOT NULL AND dismissed_by IS NOT NULL AND length(btrim(dismissed_reason)) > 0
            AND resolved_at IS NOT NULL AND event_id IS NULL));
COMMENT ON TABLE billing.quarantine IS
    'Verified deliveries that were not understood; resolved_at set when a retry stored them (event_id) or an operator dismissed them (dismissed_*)';
COMMENT ON COLUMN billing.quarantine.dismissed_by IS 'Who ran billing-events quarantine dismiss (operating-system user@host, database role)';

CREATE OR REPLACE VIEW analytics.quarantine AS
SELECT id AS quarantine_id, provider, environment, reason_code, reason, delivery_id, delivered_at, channel, source, received_at,
       attempts, last_attempt_at, resolved_at, event_id, dismissed_at, dismissed_by, dismissed_reason
FROM billing.quarantine;

-- One row per run of `billing-events backfill` on a file: what this run read and stored, from
-- where it resumed, how it ended. The file's checkpoint (backfill_files) keeps the totals.
CREATE TABLE billing.backfill_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_id      bigint NOT NULL REFERENCES billing.backfill_files (id),
    path         text NOT NULL,
    restart      boolean NOT NULL DEFAULT false,
    -- running → completed | already_imported | failed; a run found still `running` by the next run
    -- of the same file (which holds its lock) was killed and becomes `interrupted`.
    outcome      text NOT NULL DEFAULT 'running'
                 CHECK (outcome IN ('running', 'completed', 'already_imported', 'failed', 'interrupted')),
    resumed_at   bigint NOT NULL DEFAULT 0,
    records      bigint NOT NULL DEFAULT 0,
    inserted     bigint NOT NULL DEFAULT 0,
    duplicates   bigint NOT NULL DEFAULT 0,
    snapshots    bigint NOT NULL DEFAULT 0,
    rejected     bigint NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX backfill_runs_file ON billing.backfill_runs (file_id, id);
COMMENT ON TABLE billing.backfill_runs IS 'One row per run of billing-events backfill on a file; counts are this run''s';
COMMENT ON COLUMN billing.backfill_runs.resumed_at IS 'Records an earlier run had committed, skipped by this one';

-- Files imported before this migration: their history is one run with the file's counts.
INSERT INTO billing.backfill_runs (file_id, path, outcome, resumed_at, records, inserted, duplicates, snapshots, rejected,
                                   started_at, updated_at, finished_at)
SELECT id, path, CASE WHEN completed_at IS NULL THEN 'interrupted' ELSE 'completed' END, 0, records_done, inserted, duplicates,
       snapshots, rejected, started_at, updated_at, completed_at
FROM billing.backfill_files;

DROP VIEW analytics.backfills;
CREATE VIEW analytics.backfills AS
SELECT r.id AS run_id, f.id AS backfill_id, r.path, f.provider, f.environment, NULLIF(f.entity, '') AS entity, f.format,
       f.size_bytes, r.outcome, r.resumed_at, r.records, r.inserted, r.duplicates, r.snapshots, r.rejected, r.started_at,
       r.updated_at, r.finished_at, f.records_done AS file_records, f.completed_at AS file_completed_at
FROM billing.backfill_runs r
JOIN billing.backfill_files f ON f.id = r.file_id;
GRANT SELECT ON analytics.backfills TO billing_analyst;
