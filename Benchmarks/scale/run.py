#!/usr/bin/env python3
"""The cost of growth: the same figures on a log of 1,000,000 and of 10,000,000 events, in one run.

For each size, in a fresh database of one durable cluster (fsync and synchronous_commit on):
  1. `billing-events backfill` of N realistic events of about 2 KB (MintCash payments with
     refunds, Flexprice payments through Svix-export wrappers, mintfax faxes), spread evenly over
     the 24 months before this one, generated and imported in chunks of 1M (the files are
     deleted after each chunk, so the disk holds the log and one chunk);
  2. bytes per event on disk (partitions, their TOAST and indexes, and billing.event_keys);
  3. projection catch-up from zero (`serve --role projector`), events/s;
  4. `projections rebuild` of every projection, seconds;
  5. the API (`serve --role receiver,api`): HTTP ingest of pre-signed deliveries by wrk at 64
     connections (events/s, p50/p99), then the first page of /v1/payments and /v1/events, a page
     of /v1/events 90% deep in time, and /v1/events over one day (wrk, 16 connections; p50/p99);
  6. every example query of docs/analytics.md (best of three, ms);
  7. `billing-events archive` of the oldest month and `restore` of its file (seconds, events).
Then a table of both sizes and the ratio; the goal is every ratio <= 1.5 except rebuild (linear).
The run checks the disk first (about 3.3 KB per event) and removes everything after it.
Usage: scripts/bench-scale [events ...] (default 1000000 10000000); BENCH_SECONDS (default 10)."""
import json, os, re, shutil, subprocess, sys, tempfile, time, uuid
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Faults"))
from harness import SECRETS, Cluster, Service, run_command  # noqa: E402

binary = os.environ.get("BENCH_BINARY") or os.path.join(ROOT, ".build", "release", "billing-events")
sizes = [int(a) for a in sys.argv[1:] if a.isdigit()] or [1_000_000, 10_000_000]
seconds = int(os.environ.get("BENCH_SECONDS", "10"))
scratch = tempfile.mkdtemp(prefix="billing-events-scale-")
os.chmod(scratch, 0o755)

now = datetime.now(timezone.utc)
this_month = datetime(now.year, now.month, 1, tzinfo=timezone.utc)
start = datetime(this_month.year - 2, this_month.month, 1, tzinfo=timezone.utc)
span = (this_month - start).total_seconds()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def pad(body, i):
    """About 2 KB, like a provider export line with its request context and line items."""
    items = []
    while len(body) + sum(len(x) for x in items) < 1900:
        n = len(items)
        items.append(f'{{"sku":"sku_{i % 977}_{n}","description":"Usage tier {n} for period {i % 12 + 1}","quantity":"{n + 1}",'
                     f'"unit_amount":"{i % 90 + 1}.{n % 10}0"}},')
    return body[:-1] + ',"context":{"request_id":"req_%x","line_items":[%s]}}' % (i, "".join(items)[:-1])


def generate(first, count, total, directory):
    """Events first..first+count of `total`, evenly over the 24 months, one file per provider."""
    files = {p: open(os.path.join(directory, f"{p}.ndjson"), "w") for p in ("mintcash", "flexprice", "mintfax")}
    for i in range(first, first + count):
        t = start + timedelta(seconds=span * i / total)
        kind, entity = i % 3, i // 6
        if kind == 0:
            # MintCash: each payment pending, then succeeded (every tenth refunded later in the same stream).
            status = ("pending", "succeeded")[(i // 3) % 2]
            body = ('{"eventId":"%s","event":"payment.%s","type":"payment","apiVersion":"2026-05-01","environment":"live",'
                    '"createdAt":"%s","data":{"id":"pmt_%d","externalId":"order_%d","status":"%s","amount":49.99,"currency":"USD",'
                    '"providerTransactionId":"txn_%d","failureCode":null,"failureMessage":null,"amountRefunded":0,"amountRefundable":49.99,'
                    '"customer":{"id":"cust_%d","externalId":"c_%d","email":"buyer%d@example.com","name":"Jane Doe","phone":null},'
                    '"billingAddress":null,"card":{"brand":"visa","last4":"4242","expMonth":"03","expYear":"31"},'
                    '"createdAt":"%s","updatedAt":"%s"}}') % (
                        uuid.UUID(int=i), status, iso(t), entity, entity, status, entity, entity % 50000, entity % 50000, entity % 50000,
                        iso(t), iso(t))
            files["mintcash"].write(pad(body, i) + "\n")
        elif kind == 1:
            status = ("PENDING", "SUCCEEDED")[(i // 3) % 2]
            body = ('{"event_type":"payment.%s","payment":{"id":"pay_%d","destination_type":"CUSTOMER","destination_id":"cust_%d",'
                    '"payment_method_type":"CARD","amount":"%d.%02d","currency":"usd","payment_status":"%s","updated_at":"%s"}}') % (
                        "success" if status == "SUCCEEDED" else "pending", entity, entity % 50000, entity % 1000, entity % 100, status, iso(t))
            line = '{"id":"msg_%032x","timestamp":%d,"body":%s}' % (i, int(t.timestamp()), pad(body, i))
            files["flexprice"].write(line + "\n")
        else:
            body = ('{"id":"evt_%022x","type":"fax.delivered","created":%d,"data":{"object":{"id":"fax_%d","to":"+15551234567","pages":3,'
                    '"attempts":[],"tags":{},"created_at":"%s","updated_at":"%s"}}}') % (i, int(t.timestamp()), i, iso(t), iso(t))
            files["mintfax"].write(pad(body, i) + "\n")
    for f in files.values():
        f.close()


def timed(label, fn):
    began = time.monotonic()
    value = fn()
    elapsed = time.monotonic() - began
    print(f"  {label}: {elapsed:.1f} s", flush=True)
    return value, elapsed


def wrk(port, path, connections, token=None, script=None, env=None):
    args = ["wrk", "-t2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "--latency"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, env=env, check=True).stdout

    def latency(label):
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) / 1000 if unit == "us" else float(value) * 1000 if unit == "s" else float(value)
    non2xx = int(re.search(r"Non-2xx or 3xx responses: (\d+)", out).group(1)) if "Non-2xx" in out else 0
    if non2xx:
        raise SystemExit(f"bench-scale: {path} answered {non2xx} non-2xx responses")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), latency("50%"), latency("99%")


def serving(cluster, db):
    """HTTP ingest and the API's pages, from `serve --role receiver,api` on the log of `db`."""
    figures = {}
    api = Service(binary, cluster, db, scratch, role="receiver,api")
    api.wait_ready(120)
    token = run_command(binary, cluster, db, "api-keys", "create", "--name", "bench").stdout.split()[-1]
    requests = os.path.join(scratch, "requests.tsv")
    env = dict(os.environ, **SECRETS)
    subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks", "receiver", "make_requests.py"), str(seconds * 8000), requests],
                   env=env, check=True)
    figures["HTTP ingest events/s, p50, p99 ms"] = wrk(api.port, "/", 64, script=os.path.join(ROOT, "Benchmarks", "receiver", "requests.lua"),
                                                       env=dict(env, BENCH_REQUESTS=requests, BENCH_THREADS="2"))
    deep = (start + timedelta(seconds=span * 0.1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    day = start + timedelta(seconds=span * 0.5)
    for label, path in [("/v1/payments first page", "/v1/payments?limit=20"), ("/v1/events first page", "/v1/events?limit=20"),
                        ("/v1/events 90% deep", f"/v1/events?limit=20&occurred_lt={deep}"),
                        ("/v1/events one day", f"/v1/events?limit=100&occurred_gte={day:%Y-%m-%dT00:00:00Z}&occurred_lt={day + timedelta(days=1):%Y-%m-%dT00:00:00Z}")]:
        figures[f"{label} req/s, p50, p99 ms"] = wrk(api.port, path, 16, token=token)
    api.stop()
    return figures


def analytics(cluster, db):
    """Every example query of docs/analytics.md, best of three, in ms."""
    figures = {}
    text = open(os.path.join(ROOT, "docs", "analytics.md")).read()
    for name, sql in re.findall(r"<!-- example: (.+?) -->\s*```sql\n(.*?)\n```", text, re.S):
        best = None
        for _ in range(3):
            out = subprocess.run(["psql", "-h", cluster.socket, "-U", "postgres", "-d", db, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                  "-c", "\\timing on", "-c", sql], capture_output=True, text=True, timeout=3600)
            ms = [float(x) for x in re.findall(r"Time: ([\d.]+) ms", out.stdout)]
            best = min(best or ms[-1], ms[-1]) if ms else best
        figures[f"analytics {name} ms"] = best
    return figures


def archiving(cluster, db):
    """`archive` of the oldest month and `restore` of its file."""
    figures = {}
    archive_dir = os.path.join(scratch, "archive")
    oldest = start.strftime("%Y-%m")
    following = (start + timedelta(days=32)).strftime("%Y-%m")
    out, figures["archive one month s"] = timed("archive", lambda: run_command(
        binary, cluster, db, "archive", "--before", following, "--output", archive_dir, "--quiet-hours", "0", timeout=7200))
    if out.returncode != 0:
        raise SystemExit(f"bench-scale: archive failed: {out.stderr[-2000:]}")
    figures["events in that month"] = float(re.search(r"archived \S+: (\d+) events", out.stdout).group(1))
    file = os.path.join(archive_dir, f"billing-events-{oldest}.tsv.gz")
    out, figures["restore one month s"] = timed("restore", lambda: run_command(binary, cluster, db, "restore", file, timeout=7200))
    if out.returncode != 0:
        raise SystemExit(f"bench-scale: restore failed: {out.stderr[-2000:]}")
    shutil.rmtree(archive_dir)
    return figures


def measure(cluster, size):
    figures = {}
    db = cluster.create_database(f"scale_{size}")
    assert run_command(binary, cluster, db, "migrate").returncode == 0
    print(f"{size} events:", flush=True)
    chunks = os.path.join(scratch, "chunks")
    imported = 0.0
    for first in range(0, size, 1_000_000):
        os.makedirs(chunks, exist_ok=True)
        generate(first, min(1_000_000, size - first), size, chunks)
        began = time.monotonic()
        for provider in ("mintcash", "flexprice", "mintfax"):
            out = run_command(binary, cluster, db, "backfill", "--provider", provider, "--environment", "live", "--batch-size", "5000",
                              os.path.join(chunks, f"{provider}.ndjson"), timeout=7200)
            if out.returncode != 0:
                raise SystemExit(f"bench-scale: backfill failed: {out.stderr[-2000:]}")
        imported += time.monotonic() - began
        shutil.rmtree(chunks)
        print(f"  backfilled {min(first + 1_000_000, size)} ({imported:.0f} s)", flush=True)
    stored = int(cluster.psql(db, "SELECT count(*) FROM billing.events"))
    assert stored == size, f"{stored} events stored of {size}"
    figures["backfill events/s"] = size / imported
    cluster.psql(db, "VACUUM ANALYZE", timeout=7200)
    on_disk = int(cluster.psql(db, """SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
        WHERE c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'billing.events'::regclass)
           OR c.oid = 'billing.event_keys'::regclass"""))
    figures["bytes per event on disk"] = on_disk / size

    def caught_up():
        return cluster.psql(db, """SELECT count(*) = 4 AND bool_and((c.transaction_id, c.position) >= (l.transaction_id, l.position))
            FROM billing.projection_checkpoints c,
                 (SELECT transaction_id, position FROM billing.events ORDER BY transaction_id DESC, position DESC LIMIT 1) l""") == "t"
    projector = Service(binary, cluster, db, scratch, role="projector")
    began = time.monotonic()
    while not caught_up():
        time.sleep(1)
    figures["projection catch-up events/s"] = size / (time.monotonic() - began)
    projector.stop()
    _, figures["rebuild s"] = timed("rebuild", lambda: run_command(binary, cluster, db, "projections", "rebuild", timeout=14400))

    figures.update(serving(cluster, db))
    figures.update(analytics(cluster, db))
    figures.update(archiving(cluster, db))
    cluster.psql("postgres", f"DROP DATABASE {db}", timeout=600)
    return figures


def report(results):
    """The table of every size's figures and the ratio of the last to the first."""
    print()
    print("| figure | " + " | ".join(f"{size:,} events" for size, _ in results) + (" | ratio |" if len(results) > 1 else " |"))
    print("|---|" + "---|" * len(results) + ("---|" if len(results) > 1 else ""))
    for key in results[0][1]:
        cells = []
        for _, figures in results:
            value = figures.get(key)
            cells.append(" / ".join(f"{v:,.1f}" for v in value) if isinstance(value, tuple) else f"{value:,.1f}" if value is not None else "-")
        ratio = ""
        if len(results) > 1:
            first, last = results[0][1].get(key), results[-1][1].get(key)
            a, b = (first[-1], last[-1]) if isinstance(first, tuple) else (first, last)
            ratio = f" {b / a:.2f} |" if a and b is not None else " - |"
        print(f"| {key} | " + " | ".join(cells) + " |" + ratio)
    print("\n(ratios: for rates and sizes the larger run over the smaller; for tuples, of the p99)", flush=True)


def main():
    free = shutil.disk_usage(scratch).free
    needed = max(sizes) * 3300 + 4 * 10**9
    if free < needed:
        sys.exit(f"bench-scale: {max(sizes)} events need about {needed / 1e9:.0f} GB free, {free / 1e9:.0f} GB are")
    cluster = Cluster(os.path.join(scratch, "cluster"))
    try:
        cluster.stop()
        with open(os.path.join(cluster.data, "postgresql.conf"), "a") as conf:
            conf.write("shared_buffers = 1GB\nmax_wal_size = 8GB\ncheckpoint_timeout = 15min\nmaintenance_work_mem = 512MB\n")
        cluster.start()
        results = []
        for size in sizes:
            results.append((size, measure(cluster, size)))
            report(results)
    finally:
        cluster.destroy()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
