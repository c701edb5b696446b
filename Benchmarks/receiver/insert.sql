-- pgbench baseline: the receiver's event row, one INSERT per transaction (unique keys each time; the
-- key table the receiver also writes is left out, so this is the bare row).
INSERT INTO billing.events (position, id, provider, environment, event_type, entity_kind, entity_provider_id, customer_provider_id,
    occurred_at, as_of, amount, currency, dedupe_key, provider_event_id, body_sha256, raw_body, signature_headers,
    secret_fingerprint, channel, delivery_id, delivered_at, received_at)
SELECT nextval('billing.event_positions'), gen_random_uuid(), 'mintcash', 'live', 'payment.succeeded', 'payment', 'pmt_' || k, 'cust_42', now(), now(), 49.99,
    'USD', k, k, sha256(k::bytea),
    convert_to(repeat('{"eventId":"' || k || '","event":"payment.succeeded","data":{"amount":49.99}} ', 7), 'UTF8'),
    '{"x-signature":"9e5fd9b2b509784ba54d8ea07c74241739a61670627f32ded7cff3062d445474"}', '0123456789ab', 'webhook',
    NULL, NULL, now()
FROM (SELECT gen_random_uuid()::text AS k) AS key
ON CONFLICT DO NOTHING;
