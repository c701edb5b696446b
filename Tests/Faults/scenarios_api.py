"""API security: SQL-injection strings in every filter, id and cursor; tampered cursors; missing, wrong
and revoked tokens; and the timing of the signature comparison. (Schemathesis, stateful, with and
without a token, runs in scripts/check-api.)"""
import json, os, random, re, subprocess, time, urllib.parse

from deliveries import mintcash_payment
from harness import Failure, Service, run_command, wait_projected
from load import Load

FILTERS = {
    "/v1/customers": ["provider", "environment", "provider_id", "external_id", "email"],
    "/v1/subscriptions": ["provider", "environment", "provider_id", "customer_id", "status"],
    "/v1/payments": ["provider", "environment", "provider_id", "customer_id", "status", "created_gte", "created_lt"],
    "/v1/wallets": ["provider", "environment", "provider_id", "customer_id"],
    "/v1/events": ["provider", "environment", "type", "customer_id", "occurred_gte", "occurred_lt"],
}
COMMON = ["limit", "order", "cursor", "min_position"]
INJECTIONS = ["' OR '1'='1", "'; DROP TABLE billing.events; --", "1 OR 1=1", '" OR ""="', "%' OR 1=1 --", "%", "_",
              "' UNION SELECT token_sha256::text FROM billing.api_keys --", "$1", "\\", "\x00", "' || pg_sleep(3) || '",
              "1; SELECT pg_sleep(3)", "99999999999999999999", "-1", "1e999", "2026-01-01' OR '1'='1", "NaN", "𝕏" * 50, "a" * 5000,
              "live' OR environment='test", "ARRAY[1]", "(SELECT 1)", "*/ OR /*"]


def create_key(ctx, database, name):
    made = run_command(ctx.binary, ctx.cluster, database, "api-keys", "create", "--name", name)
    if made.returncode != 0:
        raise Failure(f"api-keys create failed: {made.stderr}")
    token = made.stdout.strip().splitlines()[-1].strip()
    listed = run_command(ctx.binary, ctx.cluster, database, "api-keys", "list").stdout
    prefix = next(line.split()[0] for line in listed.splitlines() if len(line.split()) > 1 and line.split()[1] == name)
    return token, prefix


def get(service, path, token):
    began = time.monotonic()
    status, body = service.get(path, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=30)
    return status, body, time.monotonic() - began


def seeded(ctx):
    database = ctx.new_database()
    service = Service(ctx.binary, ctx.cluster, database, ctx.root)
    service.wait_ready()
    load = Load(service.port, 200, workers=4, make=lambda i: mintcash_payment(customer=f"cust_{i % 10}")).start()
    time.sleep(1.5)
    load.stop()
    wait_projected(ctx.cluster, database)
    return database, service


def injections(ctx):
    database, service = seeded(ctx)
    try:
        token, _ = create_key(ctx, database, "faults")
        before = ctx.cluster.psql(database, "SELECT (SELECT count(*) FROM billing.events) || ' ' || (SELECT count(*) FROM billing.api_keys)")
        tally, wrong = {}, []
        routes = dict(FILTERS)
        routes["/v1/wallets/00000000-0000-0000-0000-000000000000/transactions"] = ["limit"]
        for path, filters in routes.items():
            for name in filters + COMMON:
                for value in INJECTIONS:
                    url = f"{path}?{name}={urllib.parse.quote(value, safe='')}"
                    status, body, seconds = get(service, url, token)
                    tally[status] = tally.get(status, 0) + 1
                    if status >= 500 or seconds > 2:
                        wrong.append(f"{url[:90]} -> {status} in {seconds:.1f} s")
                    elif status == 200 and json.loads(body)["data"] and name not in ("limit", "order", "min_position"):
                        wrong.append(f"{url[:90]} -> 200 with {len(json.loads(body)['data'])} rows")
            for value in INJECTIONS:
                status, _, _ = get(service, f"{path.split('?')[0]}/{urllib.parse.quote(value, safe='')}", token)
                tally[status] = tally.get(status, 0) + 1
                if status not in (400, 404):
                    wrong.append(f"{path}/{value[:30]!r} -> {status}")
        # Cursors: a real one works (with any limit: page size is not part of the binding); any change to it,
        # or use with other filters, another order or another list, is refused.
        status, body, _ = get(service, "/v1/payments?limit=2", token)
        cursor = json.loads(body)["next_cursor"]
        if not cursor or get(service, f"/v1/payments?limit=2&cursor={cursor}", token)[0] != 200:
            raise Failure("a genuine cursor was not accepted")
        tampered = [cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1:] for i in random.sample(range(len(cursor)), min(20, len(cursor)))]
        # (An empty `cursor=` is no cursor, the first page: not a tampered one.)
        tampered += [cursor[:-1], cursor + "A", cursor + "'--", "' OR 1=1 --", cursor[::-1], "eyJwb3NpdGlvbiI6MH0"]
        cursor_cases = [f"/v1/payments?limit=2&cursor={urllib.parse.quote(c, safe='')}" for c in tampered]
        cursor_cases += [f"/v1/payments?limit=2&status=succeeded&cursor={cursor}",
                         f"/v1/customers?limit=2&cursor={cursor}", f"/v1/payments?limit=2&order=asc&cursor={cursor}"]
        for url in cursor_cases:
            status, _, _ = get(service, url, token)
            tally[status] = tally.get(status, 0) + 1
            if status != 400:
                wrong.append(f"{url[:100]} -> {status}")
        after = ctx.cluster.psql(database, "SELECT (SELECT count(*) FROM billing.events) || ' ' || (SELECT count(*) FROM billing.api_keys)")
        if before != after:
            raise Failure(f"the database changed under read requests: {before} -> {after}")
        if wrong:
            raise Failure(f"{len(wrong)} wrong answers: " + " | ".join(wrong[:5]))
        total = sum(tally.values())
        return dict(load=f"{total} hostile queries", faults=f"{len(INJECTIONS)} injection strings in every filter, "
                    f"id and common parameter; {len(cursor_cases)} tampered or misused cursors", acked="", found="", lost=0, duplicated=0,
                    notes="answers " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.items())) + "; no 5xx, no rows matched, none slower than 2 s, "
                    "database unchanged; every tampered cursor 400")
    finally:
        service.stop()


def tokens(ctx):
    """No token, malformed Authorization, a wrong token: 401. A revoked token: 401 on the very next request."""
    database, service = seeded(ctx)
    try:
        answers = []
        for header in [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer  x", "bearer x", "Bearer " + "x" * 10000, "Bearer ' OR 1=1 --"]:
            status, _ = service.get("/v1/payments", headers={"Authorization": header} if header else {})
            answers.append(status)
        if set(answers) != {401}:
            raise Failure(f"malformed or missing tokens answered {answers}")
        revoked_at_once = 0
        for i in range(3):
            token, prefix = create_key(ctx, database, f"revoke{i}")
            if get(service, "/v1/payments?limit=1", token)[0] != 200:
                raise Failure("a fresh key was refused")
            wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
            if get(service, "/v1/payments?limit=1", wrong)[0] != 401:
                raise Failure("a token with its last character changed was accepted")
            revoke = run_command(ctx.binary, ctx.cluster, database, "api-keys", "revoke", prefix)
            if revoke.returncode != 0:
                raise Failure(f"revoke failed: {revoke.stderr}")
            status = get(service, "/v1/payments?limit=1", token)[0]
            if status != 401:
                raise Failure(f"a revoked key answered {status} right after the revocation")
            revoked_at_once += 1
        # The comparison of webhook signatures: time independent of where a wrong signature differs.
        timing = os.path.join(os.path.dirname(ctx.binary), "signature-timing")
        measured = subprocess.run([timing, "31", "50000" if ctx.fast else "200000"], capture_output=True, text=True, timeout=600)
        verdict = re.search(r"verdict: .*", measured.stdout)
        if measured.returncode != 0:
            raise Failure(f"signature timing: {measured.stdout}{measured.stderr}")
        return dict(load="8 malformed Authorization headers; 3 keys revoked", faults="missing/malformed/wrong/revoked tokens; timing of signature compare",
                    acked="", found="", lost=0, duplicated=0,
                    notes=f"all 401; {revoked_at_once} of 3 revoked keys refused on the next request; {verdict.group(0) if verdict else ''}")
    finally:
        service.stop()


SCENARIOS = [
    ("SQL injection and cursors", injections, True),
    ("tokens and signature timing", tokens, True),
]
