#!/usr/bin/env python3
"""Upgrade in place, measured: migration 0011 (the partitioned log) on an existing log while a
receiver takes webhooks.

On a durable throwaway cluster: migrations 0001-0010 only, then N events of about 2 KB in the old
unpartitioned table (SQL, a third Flexprice, spread over 12 months), VACUUM ANALYZE. A receiver of
this build (`serve --role receiver --no-migrate`) takes signed MintCash deliveries from 8 clients the
whole time; after a few seconds `billing-events migrate` applies 0011. Prints the migration's time,
how long the log was closed to writes (the longest request that waited on it), the statuses
answered before, during and after, and checks that every acknowledged delivery is in the log exactly
once. Usage: scripts/bench-upgrade [events] (default 1000000)."""
import hashlib, hmac, http.client, os, shutil, subprocess, sys, tempfile, threading, time, uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Faults"))
from harness import SECRETS, Cluster, Service  # noqa: E402

binary = os.environ.get("BENCH_BINARY") or os.path.join(ROOT, ".build", "release", "billing-events")
count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
scratch = tempfile.mkdtemp(prefix="billing-events-upgrade-")
os.chmod(scratch, 0o755)
bundled = os.path.join(os.path.dirname(binary), "billing-events_BillingStore.resources", "Migrations")
old = os.path.join(scratch, "migrations-0010")
os.makedirs(old)
for name in sorted(os.listdir(bundled)):
    if name[:4].isdigit() and int(name[:4]) <= 10:
        shutil.copy(os.path.join(bundled, name), old)


def command(*args, migrations=None, timeout=3600):
    env = dict(os.environ, LOG_LEVEL="warning", **SECRETS)
    env.pop("DATABASE_URL", None)
    if migrations:
        env["BILLING_EVENTS_MIGRATIONS"] = migrations
    out = subprocess.run([binary] + list(args) + ["--database-url", cluster.url("upgrade")], env=env, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"bench-upgrade: {args[0]} failed: {out.stderr[-2000:]}")
    return out


cluster = Cluster(os.path.join(scratch, "cluster"))
try:
    cluster.create_database("upgrade")
    command("migrate", migrations=old)
    print(f"seeding {count} events in the unpartitioned log (migrations up to 0010) ...", flush=True)
    began = time.monotonic()
    for first in range(0, count, 100_000):
        cluster.psql("upgrade", f"""
            INSERT INTO billing.events (id, provider, environment, event_type, entity_kind, entity_provider_id, customer_provider_id,
                occurred_at, as_of, amount, currency, dedupe_key, body_sha256, raw_body, channel, received_at)
            SELECT gen_random_uuid(), p.provider, 'live', p.provider || '.payment', 'payment', 'pay_' || g, 'cust_' || (g % 50000), t.at, t.at,
                (g % 10000) / 100.0, 'USD', 'seed_' || g, sha256(b.body), b.body, 'backfill', now()
            FROM generate_series({first + 1}, {min(first + 100_000, count)}) AS g,
                LATERAL (SELECT (ARRAY['flexprice', 'mintcash', 'mintfax'])[1 + g % 3] AS provider) AS p,
                LATERAL (SELECT timestamptz '{time.strftime('%Y-%m-01', time.gmtime(time.time() - 365 * 86400))}'
                                + (g::float8 / {count}) * interval '365 days' AS at) AS t,
                LATERAL (SELECT convert_to('{{"id":"' || g || '","pad":"' || string_agg(md5(g::text || i::text), '') || '"}}', 'UTF8') AS body
                         FROM generate_series(1, 60) AS i) AS b""", timeout=3600)
    cluster.psql("upgrade", "VACUUM ANALYZE", timeout=3600)
    cluster.psql("upgrade", "CHECKPOINT")
    size = int(cluster.psql("upgrade", "SELECT pg_total_relation_size('billing.events')"))
    print(f"seeded in {time.monotonic() - began:.0f} s; billing.events {size / 2**30:.2f} GiB", flush=True)

    receiver = Service(binary, cluster, "upgrade", scratch, role="receiver", args=["--no-migrate"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if receiver.get("/livez", timeout=1)[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    results, stop = [], threading.Event()
    secret = SECRETS["MINTCASH_WEBHOOK_SECRETS"].encode()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=120)
        while not stop.is_set():
            event = str(uuid.uuid4())
            body = ('{"eventId":"%s","event":"payment.succeeded","type":"payment","apiVersion":"2026-05-01","environment":"live",'
                    '"createdAt":"2026-05-22T14:32:08.412Z","data":{"id":"pmt_%s","status":"succeeded","amount":49.99,"currency":"USD",'
                    '"createdAt":"2026-05-22T14:31:50.001Z","updatedAt":"2026-05-22T14:32:08.412Z"}}') % (event, event[:12])
            signature = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
            sent = time.monotonic()
            try:
                conn.request("POST", "/webhooks/mintcash", body=body, headers={"Content-Type": "application/json", "X-Signature": signature})
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=120)
                status = 0
            results.append((sent, time.monotonic() - sent, status, event))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    migration_start = time.monotonic()
    command("migrate")
    migration_end = time.monotonic()
    time.sleep(5)
    stop.set()
    for thread in threads:
        thread.join()
    receiver.stop()

    recorded = int(cluster.psql("upgrade", "SELECT duration_ms FROM billing_schema_migrations WHERE version = 11"))
    phases = {"before": [], "during": [], "after": []}
    for sent, latency, status, event in results:
        phase = "before" if sent + latency < migration_start else "after" if sent > migration_end else "during"
        phases[phase].append((latency, status))
    acked = [event for _, _, status, event in results if status == 200]
    stored = {}
    for line in cluster.psql("upgrade", "SELECT dedupe_key || ' ' || count(*) FROM billing.events WHERE channel = 'webhook' GROUP BY dedupe_key").splitlines():
        key, n = line.rsplit(" ", 1)
        stored[key] = int(n)
    lost = [event for event in acked if stored.get(event, 0) == 0]
    doubled = sum(n - 1 for n in stored.values() if n > 1)
    legacy = cluster.psql("upgrade", "SELECT count(*) FROM billing.events_legacy")
    keys = cluster.psql("upgrade", "SELECT count(*) FROM billing.event_keys")
    print()
    print(f"migration 0011 on {count:,} events ({size / 2**30:.2f} GiB): {migration_end - migration_start:.1f} s by the command, "
          f"{recorded / 1000:.1f} s recorded; events_legacy holds {legacy}, event_keys {keys}")
    print("| phase | requests | 200 | 503 | other | longest ms |")
    print("|---|---|---|---|---|---|")
    for phase, rows in phases.items():
        statuses = [s for _, s in rows]
        longest = max((l for l, _ in rows), default=0) * 1000
        print(f"| {phase} | {len(rows)} | {statuses.count(200)} | {statuses.count(503)} | "
              f"{len(rows) - statuses.count(200) - statuses.count(503)} | {longest:.0f} |")
    print(f"\nacknowledged {len(acked)}, lost {len(lost)}, stored twice {doubled}")
    if lost or doubled:
        raise SystemExit("bench-upgrade: an acknowledged delivery was lost or doubled")
finally:
    cluster.destroy()
    shutil.rmtree(scratch, ignore_errors=True)
