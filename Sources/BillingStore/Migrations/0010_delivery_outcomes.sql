-- The delivery log records how a request ended (its outcome), not the HTTP status: the HTTP layer
-- answers each outcome with one status (DeliveryOutcome+HTTP.swift). Two outcomes are added so
-- that the status follows from the outcome: 'failed' (the event store refused the delivery, 500;
-- earlier logged as 'unavailable' or 'refused' with 500) and 'unsupported_coding' (a transfer
-- coding the server does not implement, 501; earlier 'unsupported_media_type' with 501). The
-- constraint goes first: the rows it moves hold outcomes the old constraint does not allow.
-- analytics.deliveries keeps its http_status column, derived from the outcome (a test compares it
-- with the HTTP layer's mapping for every outcome).
-- http_status stays, nullable and no longer written, for one release: receivers of the previous
-- build still insert it during a rolling deploy (docs/deployment.md). A later migration drops it.
ALTER TABLE billing.deliveries DROP CONSTRAINT deliveries_outcome_check;
UPDATE billing.deliveries SET outcome = 'failed' WHERE http_status = 500;
UPDATE billing.deliveries SET outcome = 'unsupported_coding' WHERE http_status = 501;
ALTER TABLE billing.deliveries ALTER COLUMN http_status DROP NOT NULL;
COMMENT ON COLUMN billing.deliveries.http_status IS 'Not written since migration 0010 (see analytics.deliveries); dropped later';
DROP VIEW analytics.deliveries;
ALTER TABLE billing.deliveries ADD CONSTRAINT deliveries_outcome_check CHECK (outcome IN ('stored', 'duplicate', 'quarantined',
    'refused', 'too_large', 'unsupported_media_type', 'unsupported_coding', 'method_not_allowed', 'unknown_provider', 'unavailable',
    'failed'));

-- Webhook requests (the bounded delivery log), without bodies or headers; http_status is what
-- the receiver answered for the outcome.
CREATE VIEW analytics.deliveries AS
SELECT id AS delivery_log_id, received_at, provider, environment, outcome,
       CASE outcome
           WHEN 'stored' THEN 200 WHEN 'duplicate' THEN 200 WHEN 'quarantined' THEN 200 WHEN 'refused' THEN 401
           WHEN 'too_large' THEN 413 WHEN 'unsupported_media_type' THEN 415 WHEN 'unsupported_coding' THEN 501
           WHEN 'method_not_allowed' THEN 405 WHEN 'unknown_provider' THEN 404 WHEN 'unavailable' THEN 503 WHEN 'failed' THEN 500
       END AS http_status,
       reason, body_bytes, delivery_id, event_id
FROM billing.deliveries;
GRANT SELECT ON analytics.deliveries TO billing_analyst;
