-- 0001 foundation: the schema that later migrations build on.
--
-- Internal tables live in the `billing` schema; `analytics` is the documented surface for
-- analysts. The event log, read models and views arrive in later, numbered migrations.
CREATE SCHEMA IF NOT EXISTS billing;
COMMENT ON SCHEMA billing IS 'billing-events internal tables: may change between releases';
