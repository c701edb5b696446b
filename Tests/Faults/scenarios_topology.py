"""Production topology: a primary killed with -9 and its synchronous standby promoted under load; the query
API on a streaming replica whose replay is paused (min_position, lag metrics, /readyz); analysts' long
transactions on a hot standby while the primary vacuums (hot_standby_feedback); the service behind
PgBouncer in transaction mode; two projectors on different client addresses, the active one killed.
Every node, pooler and process runs on 127.0.0.1 under ctx.root and is torn down in `finally`."""
import http.client, json, os, random, re, subprocess, threading, time, types

from deliveries import mintcash_payment
from harness import Failure, account, wait_for, wait_projected
from load import Load
from scenarios_faults import finish
from topology import (Node, PgBouncer, Teardown, TopologyService, command, create_key, multi_host_url, read_model_id, scenario_root,
                      wait_exit_or_ready)

PROJECTIONS = 4  # customers, subscriptions, payments, wallets


def on(ctx, node):
    """ctx as the suite's finish() and checks expect it, with `node` (the current primary) as the cluster."""
    return types.SimpleNamespace(binary=ctx.binary, cluster=node, root=ctx.root, rate=ctx.rate, fast=ctx.fast)


def post(port, delivery, timeout=30):
    """One signed delivery on its own connection: (status, answer JSON or raw body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", delivery.path, body=delivery.body, headers=delivery.headers())
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, body


def until_ok(fetch, timeout, what, allowed=(503,)):
    """Calls fetch() -> (status, body) until it answers 200 and returns that; a status neither 200 nor in
    `allowed` fails at once, and so does the timeout (both naming the last answer)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            last = fetch()
        except (OSError, http.client.HTTPException) as error:
            last = ("transport", error)
        if last[0] == 200:
            return last
        if last[0] not in allowed and last[0] != "transport":
            raise Failure(f"{what}: answered {last[0]} {str(last[1])[:200]}")
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}; last answer {last[0]} {str(last[1])[:200]}")
        time.sleep(0.1)


def deliver(port, delivery, timeout=15):
    """Sends until acknowledged (503 meanwhile is allowed); returns the answer {status, event_id, position}."""
    _, answer = until_ok(lambda: post(port, delivery), timeout, f"{delivery.marker} to be acknowledged")
    if not isinstance(answer, dict) or answer.get("status") != "stored" or not isinstance(answer.get("position"), int):
        raise Failure(f"the acknowledgement lacks status stored and an integer position: {answer}")
    return answer


def api_get(service, path, token, timeout=30):
    status, body = service.get(path, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def payment_path(delivery, position=None):
    path = f"/v1/payments/{read_model_id('payments', 'mintcash', delivery.marker)}"
    return path + (f"?min_position={position}" if position is not None else "")


def active_projections(service):
    """{projection: 1.0 or 0.0} from the process's billing_events_projection_active gauges."""
    return {dict(labels).get("projection"): value for (name, labels), value in service.metrics().items()
            if name == "billing_events_projection_active"}


def refuse_stray(load):
    """Transport errors: the service stayed up, so a dropped or hung request is a failure too."""
    if load.statuses.get("transport"):
        raise Failure(f"{load.statuses['transport']} requests failed at the transport level (connection dropped or 15 s timeout)")


# 1. ------------------------------------------------------------------------------------------------------
def failover(ctx):
    """kill -9 of the primary mid-burst; its synchronous standby promoted a second later. The service,
    given both hosts (target_session_attrs=read-write), finds the new primary by itself; 503 meanwhile.
    Synchronous replication means nothing acknowledged is lost with the old primary."""
    root, down = scenario_root(ctx, "failover"), Teardown()
    load = None
    try:
        primary = down.add(Node.primary(root, "primary"))
        standby = down.add(Node.standby_of(primary, "standby1", sync=True))
        database = primary.create_database("billing")
        url = multi_host_url([primary, standby], database)
        service = down.add(TopologyService(ctx.binary, url, root, env={"SESSION_DATABASE_URL": url}))
        service.wait_ready()
        load = Load(service.port, ctx.rate).start()
        time.sleep(2 + random.random())
        load.mark("killed")
        killed_at = time.monotonic()
        primary.kill9()
        time.sleep(0.5)
        acks_without_primary = load.statuses[200]  # from here to the promotion nothing can commit
        time.sleep(0.5)
        status, _ = service.get("/readyz", timeout=5)
        if status != 503:
            raise Failure(f"/readyz answered {status} with the primary dead and the standby not yet promoted")
        refused_before_promote = load.statuses[503]
        acks_without_primary = load.statuses[200] - acks_without_primary
        if acks_without_primary:
            raise Failure(f"{acks_without_primary} deliveries acknowledged while no writable primary existed")
        # What the old primary wrote, as the standby has it: every later event must be positioned after it
        # (min_position compares positions across the failover).
        old_max, old_count = map(int, standby.psql(database, "SELECT coalesce(max(position), 0) || ' ' || count(*) FROM billing.events").split())
        began = time.monotonic()
        standby.promote()
        load.mark("promoted")
        promoted_at = time.monotonic()
        wait_for(lambda: load.recovery("promoted") is not None, 15, "the first acknowledgement after the promotion", interval=0.05)
        wait_for(lambda: service.get("/readyz", timeout=5)[0] == 200, 15, "/readyz 200 on the new primary")
        after_promote = load.recovery("promoted")
        after_kill = promoted_at - killed_at + after_promote
        notes = [f"first 2xx {after_promote:.2f} s after promote", f"{after_kill:.2f} s after kill -9 (promote took {promoted_at - began:.2f} s)",
                 f"{refused_before_promote} answered 503 before the promotion"]
        # Read your write through the query API, on the new primary, with a key created there.
        delivery = mintcash_payment()
        answer = deliver(service.port, delivery)
        token = create_key(ctx.binary, standby.url(database), "failover")
        _, body = until_ok(lambda: api_get(service, payment_path(delivery, answer["position"]), token), 20,
                           "the payment delivered after the failover to be readable with min_position")
        if not isinstance(body, dict) or body.get("provider_id") != delivery.marker:
            raise Failure(f"GET of the payment answered another object: {body}")
        if answer["position"] <= old_max:
            raise Failure(f"the payment delivered after the failover got position {answer['position']}, not after the old primary's {old_max}")
        notes.append(f"payment after failover readable via the API at position {answer['position']} (old primary's last: {old_max})")
        time.sleep(1.5)
        load.acked[delivery.marker] = answer["event_id"]
        row = finish(on(ctx, standby), service, database, load, "kill -9 primary mid-burst, standby promoted 1 s later", notes)
        refuse_stray(load)
        below = int(standby.psql(database, f"SELECT count(*) FROM billing.events WHERE position <= {old_max}"))
        if below != old_count:
            raise Failure(f"{below - old_count} events written after the promotion were positioned at or before the old primary's last ({old_max})")
        return row
    finally:
        if load:
            load.running = False
        down.close()


# 2. ------------------------------------------------------------------------------------------------------
def replica_paused(ctx):
    """The query API reads an asynchronous streaming replica. With its replay paused, a read with the
    min_position of a newer write answers 503 position_not_reached (never 200 without the write), the lag
    metrics show it and /readyz of an API with READ_MAX_LAG_SECONDS=1 goes 503 (that one given both nodes
    with target_session_attrs=prefer-standby); once replay resumes the same read answers 200 with the payment."""
    root, down = scenario_root(ctx, "replica"), Teardown()
    try:
        primary = down.add(Node.primary(root, "primary"))
        replica = down.add(Node.standby_of(primary, "replica1", sync=False))
        database = primary.create_database("billing")
        read_env = {"READ_DATABASE_URL": replica.url(database), "QUERY_POSITION_TIMEOUT_MS": "1500"}
        projector = down.add(TopologyService(ctx.binary, primary.url(database), root, role="projector", name="projector"))
        projector.wait_ready()
        api = down.add(TopologyService(ctx.binary, primary.url(database), root, role="receiver,api", env=read_env, name="receiver-api"))
        # The second API names both nodes, primary first, and prefers a standby: it must read the replica.
        prefer = multi_host_url([primary, replica], database, target_session_attrs="prefer-standby")
        strict = down.add(TopologyService(ctx.binary, primary.url(database), root, role="api", name="api-lag1",
                                          env=dict(read_env, READ_DATABASE_URL=prefer, READ_MAX_LAG_SECONDS="1")))
        api.wait_ready(); strict.wait_ready()
        token = create_key(ctx.binary, primary.url(database), "replica")
        notes = []

        first = mintcash_payment()
        first_answer = deliver(api.port, first)
        until_ok(lambda: api_get(api, payment_path(first, first_answer["position"]), token), 30, "the first payment to be readable from the replica")
        metrics = api.metrics()
        for name in ("billing_events_replica_lag_bytes", "billing_events_replica_lag_seconds"):
            if not any(n == name for n, _ in metrics):
                raise Failure(f"/metrics of an API with READ_DATABASE_URL lacks {name}")
        # Caught up and idle: not lagging, whatever the time since the last commit.
        wait_for(lambda: strict.get("/readyz")[0] == 200, 15, "/readyz of the READ_MAX_LAG_SECONDS=1 API with the replica caught up")
        time.sleep(3)
        status, body = strict.get("/readyz")
        if status != 200:
            raise Failure(f"/readyz (READ_MAX_LAG_SECONDS=1) answered {status} for an idle, caught-up replica: {body[:200]!r}")

        replica.psql("postgres", "SELECT pg_wal_replay_pause()")
        wait_for(lambda: replica.psql("postgres", "SELECT pg_get_wal_replay_pause_state()") == "paused", 10, "replay to pause")
        paused_at = time.monotonic()
        second = mintcash_payment()
        second_answer = deliver(api.port, second)
        second_acked_at = time.monotonic()
        wait_projected(primary, database)  # the primary has it projected; the replica has not replayed it
        path = payment_path(second, second_answer["position"])
        listed = f"/v1/payments?provider_id={second.marker}&min_position={second_answer['position']}"
        for reader, asked in ((api, path), (api, listed), (strict, path)):
            began = time.monotonic()
            status, body = api_get(reader, asked, token)
            waited = time.monotonic() - began
            if status == 200:
                raise Failure(f"{asked} answered 200 while the replica's replay was paused: {body}")
            if status != 503 or not isinstance(body, dict) or body.get("code") != "position_not_reached":
                raise Failure(f"{asked} (beyond the paused replica) answered {status} {body}")
            if not 1.0 <= waited <= 5:
                raise Failure(f"position_not_reached came after {waited:.2f} s with QUERY_POSITION_TIMEOUT_MS=1500")
        notes.append(f"paused: get and list 503 position_not_reached after {waited:.1f} s")

        lag = {}

        def lagging():
            lag["bytes"] = api.metric("billing_events_replica_lag_bytes")
            lag["seconds"] = api.metric("billing_events_replica_lag_seconds")
            return lag["bytes"] > 0
        wait_for(lagging, 10, "billing_events_replica_lag_bytes > 0 with replay paused")
        wait_for(lambda: strict.get("/readyz")[0] == 503, 10, "/readyz of the READ_MAX_LAG_SECONDS=1 API to answer 503")
        lag_seconds = strict.metric("billing_events_replica_lag_seconds")
        unreplayed_age = time.monotonic() - second_acked_at
        if lag_seconds <= 1:
            raise Failure(f"/readyz 503 but the lag metric says {lag_seconds} s")
        status, _ = api.get("/readyz")
        if status != 200 and time.monotonic() - paused_at < 25:
            raise Failure(f"/readyz of the API with the default READ_MAX_LAG_SECONDS (30) answered {status} after a few seconds of lag")
        notes.append(f"lag {lag['bytes']:.0f} B, {lag_seconds:.1f} s (the oldest unreplayed write was acknowledged {unreplayed_age:.1f} s before); "
                     "/readyz 503 with READ_MAX_LAG_SECONDS=1, 200 with 30")

        replica.psql("postgres", "SELECT pg_wal_replay_resume()")
        resumed_at = time.monotonic()
        _, body = until_ok(lambda: api_get(api, path, token), 10, "the second payment to be readable once replay resumed")
        if not isinstance(body, dict) or body.get("provider_id") != second.marker:
            raise Failure(f"after resume, the GET answered another object: {body}")
        notes.append(f"resumed: 200 with the payment {time.monotonic() - resumed_at:.2f} s later")
        wait_for(lambda: strict.get("/readyz")[0] == 200, 15, "/readyz (READ_MAX_LAG_SECONDS=1) back to 200 after resume")
        acked = {first.marker: first_answer["event_id"], second.marker: second_answer["event_id"]}
        _, found, lost, duplicated = account(primary, database, acked, expected_rows=2)
        return dict(load="2 payments; reads with min_position from the replica", faults="replica's WAL replay paused, then resumed",
                    acked=2, found=found, lost=lost, duplicated=duplicated, notes="; ".join(notes))
    finally:
        down.close()


# 3. ------------------------------------------------------------------------------------------------------
ANALYST_SLEEP = 8


def analyst_round(primary, replica, database, feedback):
    """An analyst's REPEATABLE READ transaction on the replica reads billing.payments, sleeps, reads again;
    meanwhile the primary updates every row, deletes half and vacuums. Returns the analyst's exit status and
    output, VACUUM's (removed, remain, dead but not removable) and whether the replica replayed past the VACUUM meanwhile."""
    replica.psql("postgres", f"ALTER SYSTEM SET hot_standby_feedback = {feedback}")
    replica.psql("postgres", "SELECT pg_reload_conf()")
    wait_for(lambda: replica.psql("postgres", "SHOW hot_standby_feedback") == feedback, 10, "the replica to take the setting")
    held = f"SELECT count(*) FROM pg_stat_replication WHERE application_name = '{replica.name}' AND backend_xmin IS {'NOT ' if feedback == 'on' else ''}NULL"
    wait_for(lambda: primary.psql("postgres", held) == "1", 15, f"the primary to see the replica's feedback {feedback}")
    wait_for(lambda: replica.replay_caught_up(primary), 15, "the replica to catch up")
    script = (f"BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT 'before ' || count(*) || ' ' || sum(amount) FROM billing.payments;\n"
              f"SELECT pg_sleep({ANALYST_SLEEP});\nSELECT 'after ' || count(*) || ' ' || sum(amount) FROM billing.payments;\nCOMMIT;\n")
    path = os.path.join(replica.root, f"analyst-{feedback}.sql")
    with open(path, "w") as f:
        f.write(script)
    analyst = subprocess.Popen(replica.psql_command(database) + ["-f", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        sleeping = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'"
        wait_for(lambda: replica.psql("postgres", sleeping) == "1", 10, "the analyst to hold its snapshot (its first read done)")
        primary.psql(database, "UPDATE billing.payments SET amount = amount + 1")
        primary.psql(database, "DELETE FROM billing.payments WHERE hashtext(provider_id) % 2 = 0")
        vacuum = subprocess.run(primary.psql_command(database) + ["-c", "VACUUM (VERBOSE) billing.payments"], capture_output=True, text=True, timeout=60)
        if vacuum.returncode != 0:
            raise Failure(f"VACUUM failed: {vacuum.stderr}")
        target = primary.psql("postgres", "SELECT pg_current_wal_lsn()")
        replayed = []

        def replayed_past_vacuum():
            return replica.psql("postgres", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t"
        try:
            wait_for(replayed_past_vacuum, ANALYST_SLEEP - 2, "the replica to replay the vacuum while the analyst's transaction is open")
            replayed.append(True)
        except Failure:
            replayed.append(False)
        out, err = analyst.communicate(timeout=60)
    finally:
        if analyst.poll() is None:
            analyst.kill()
            analyst.wait()
    report = re.search(r"tuples: (\d+) removed, (\d+) remain, (\d+) are dead but not yet removable", vacuum.stderr)
    return analyst.returncode, out + err, report.groups() if report else None, replayed[0]


def hot_standby_analysts(ctx):
    """Analysts' long transactions on a hot standby: with hot_standby_feedback off (and
    max_standby_streaming_delay 1s) the primary's VACUUM removes row versions their snapshot needs and the
    replay cancels them ('conflict with recovery'); with it on, the same transaction survives."""
    root, down = scenario_root(ctx, "analysts"), Teardown()
    try:
        primary = down.add(Node.primary(root, "primary"))
        replica = down.add(Node.standby_of(primary, "analytics1", sync=False, settings={
            "hot_standby_feedback": "off", "max_standby_streaming_delay": "1s", "wal_receiver_status_interval": "1s"}))
        database = primary.create_database("billing")
        service = down.add(TopologyService(ctx.binary, primary.url(database), root))
        service.wait_ready()
        load = Load(service.port, 200, workers=4, make=lambda i: mintcash_payment(customer=f"cust_{i % 20}")).start()
        time.sleep(2)
        load.stop()
        wait_projected(primary, database)
        service.stop()  # the rounds change read models by hand: nothing else may write them meanwhile
        seeded = int(primary.psql(database, "SELECT count(*) FROM billing.payments"))
        if seeded < 100:
            raise Failure(f"only {seeded} payments seeded")
        notes = [f"{seeded} payments"]

        code, output, vacuum, replayed = analyst_round(primary, replica, database, "off")
        if code == 0 or "conflict with recovery" not in output:
            raise Failure(f"with hot_standby_feedback off the analyst was not cancelled (exit {code}, vacuum {vacuum}): {output.strip()[-300:]}")
        reason = next((re.sub(r"^psql:\S*: ", "", line.strip()) for line in output.splitlines() if "conflict with recovery" in line), "")
        detail = next((line.strip() for line in output.splitlines() if line.strip().startswith("DETAIL")), "")
        notes.append(f"feedback off: {reason[:90]} ({detail[:80]}); vacuum removed {vacuum[0] if vacuum else '?'}")

        code, output, vacuum, replayed = analyst_round(primary, replica, database, "on")
        lines = [line.split() for line in output.splitlines() if line.startswith(("before ", "after "))]
        if code != 0 or len(lines) != 2:
            raise Failure(f"with hot_standby_feedback on the analyst's transaction failed (exit {code}): {output.strip()[-300:]}")
        if lines[0][1:] != lines[1][1:]:
            raise Failure(f"the REPEATABLE READ transaction saw different rows: {lines}")
        if not replayed:
            raise Failure("the replica did not replay the primary's VACUUM while the analyst's transaction was open")
        if not vacuum or int(vacuum[2]) == 0:
            raise Failure(f"VACUUM on the primary was not held back by the replica's feedback: {vacuum}")
        notes.append(f"feedback on: survived, same {lines[0][1]} rows before and after; replay went on; vacuum kept {vacuum[2]} dead row versions")
        return dict(load=f"{seeded} payments; a {ANALYST_SLEEP} s REPEATABLE READ transaction on the replica x2",
                    faults="primary updates all rows, deletes half, VACUUM; feedback off then on", acked="", found="", lost=0, duplicated=0,
                    notes="; ".join(notes))
    finally:
        down.close()


# 4. ------------------------------------------------------------------------------------------------------
class Readers:
    """Query-API traffic beside the load: list payments and events, and read one's own write (a payment
    delivered, then read by id with min_position). Every answer must be 200."""

    def __init__(self, service, token, threads=3):
        self.service, self.token = service, token
        self.statuses, self.wrong, self.acked = {}, [], {}
        self.lock = threading.Lock()
        self.running = True
        self.threads = [threading.Thread(target=self.read, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def tally(self, what, status, body):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status != 200:
                self.wrong.append(f"{what} -> {status} {str(body)[:160]}")

    def read(self):
        while self.running:
            try:
                for path in ("/v1/payments?limit=20", "/v1/events?limit=20&provider=mintcash"):
                    status, body = api_get(self.service, path, self.token)
                    self.tally(path, status, body)
                delivery = mintcash_payment(customer=f"cust_reader_{random.randrange(5)}")
                status, answer = post(self.service.port, delivery)
                self.tally("POST", status, answer)
                if status == 200:
                    with self.lock:
                        self.acked[delivery.marker] = answer["event_id"]
                    status, body = api_get(self.service, payment_path(delivery, answer["position"]), self.token)
                    self.tally("GET own write", status, body)
            except (OSError, http.client.HTTPException) as error:
                self.tally("transport", "transport", error)
                time.sleep(0.1)

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join()


def must_refuse(ctx, root, database_url, role, env, args=(), name="refused"):
    """A serve process that must exit non-zero at start-up naming SESSION_DATABASE_URL; returns its status."""
    service = TopologyService(ctx.binary, database_url, root, role=role, env=env, args=args, name=name)
    try:
        outcome = wait_exit_or_ready(service, 60)
        if outcome == "ready":
            raise Failure(f"serve --role {role} {' '.join(args)} started behind the transaction pooler ({env}) instead of refusing")
        code = service.process.returncode
        if code == 0 or "SESSION_DATABASE_URL" not in service.log():
            raise Failure(f"serve --role {role} behind the pooler exited {code} without naming SESSION_DATABASE_URL: {service.log_tail(5)}")
        return code
    finally:
        service.stop()


def pgbouncer_transactions(ctx):
    """Receivers and the query API through PgBouncer (transaction mode, 4 server connections) with
    prepared statements off, the projector on a direct session; 16 senders and API readers at once."""
    root, down = scenario_root(ctx, "pgbouncer"), Teardown()
    load = readers = None
    try:
        primary = down.add(Node.primary(root, "primary"))
        database = primary.create_database("billing")
        bouncer = down.add(PgBouncer(root, primary))
        direct, pooled = primary.url(database), bouncer.url(database)
        projector = down.add(TopologyService(ctx.binary, direct, root, role="projector", name="projector"))
        projector.wait_ready()
        service = down.add(TopologyService(ctx.binary, pooled, root, role="receiver,api", name="receiver-api-pooled",
                                           env={"DATABASE_PREPARED_STATEMENTS": "off", "SESSION_DATABASE_URL": direct}))
        service.wait_ready()
        token = create_key(ctx.binary, direct, "pgbouncer")
        load = Load(service.port, ctx.rate, workers=16).start()
        readers = Readers(service, token)
        time.sleep(5 if ctx.fast else 10)
        readers.stop()
        with load.lock:
            load.acked.update(readers.acked)
        if readers.wrong:
            raise Failure(f"{len(readers.wrong)} API answers through pgbouncer were not 200: {readers.wrong[:3]}")
        stats = bouncer_stats(bouncer, database)
        notes = [f"API through pgbouncer: {sum(readers.statuses.values())} answers, all 200"]
        row = finish(on(ctx, primary), service, database, load, "16 senders + API readers through pgbouncer (transaction mode, pool 4)", notes)
        refuse_stray(load)
        if load.statuses[503]:
            raise Failure(f"{load.statuses[503]} deliveries answered 503 with the database up")
        if not projector.alive():
            raise Failure("the projector died: " + projector.log_tail())
        for name, text in (("serve (pooled)", service.log()), ("projector", projector.log()), ("postgres", open(f"{primary.root}/postgres.log").read())):
            hits = prepared_statement_errors(text)
            if hits:
                raise Failure(f"prepared-statement errors in the {name} log: {hits[:2]}")
        row["notes"] += f"; pgbouncer: {stats}; no prepared-statement error in any log"
        service.stop()

        # Session work through the pooler is refused at start-up, naming SESSION_DATABASE_URL.
        refusals = [must_refuse(ctx, root, pooled, "projector", {}, name="projector-pooled"),
                    must_refuse(ctx, root, direct, "projector", {"SESSION_DATABASE_URL": pooled}, name="projector-session-pooled"),
                    must_refuse(ctx, root, pooled, "receiver,api", {}, name="migrating-pooled")]
        # So is an operator command (migrate holds an advisory lock across statements).
        migrate = command(ctx.binary, pooled, "migrate")
        if migrate.returncode == 0 or "pooler in transaction" not in migrate.stderr:
            raise Failure(f"billing-events migrate through pgbouncer exited {migrate.returncode}: {migrate.stderr.strip()[-300:]}")
        # Commands without session state work through it.
        listed = command(ctx.binary, pooled, "api-keys", "list")
        if listed.returncode != 0 or "pgbouncer" not in listed.stdout:
            raise Failure(f"billing-events api-keys list through pgbouncer exited {listed.returncode}: {listed.stderr.strip()[-300:]}")
        # Receivers and the API alone, without migrating, need no session.
        plain = down.add(TopologyService(ctx.binary, pooled, root, role="receiver,api", args=["--no-migrate"], name="no-migrate-pooled"))
        if wait_exit_or_ready(plain, 60) != "ready":
            raise Failure(f"serve --role receiver,api --no-migrate through pgbouncer exited {plain.process.returncode}: {plain.log_tail(5)}")
        plain.stop()
        row["notes"] += f"; projector or migration through pgbouncer refused (exit {sorted(set(refusals))}), receiver,api --no-migrate runs"

        # DATABASE_PREPARED_STATEMENTS unset (auto) through pgbouncer: the detection must choose off.
        auto = down.add(TopologyService(ctx.binary, pooled, root, role="receiver,api", name="receiver-api-auto",
                                        env={"SESSION_DATABASE_URL": direct}))
        auto.wait_ready()
        burst = Load(auto.port, ctx.rate, workers=16).start()
        time.sleep(3)
        burst.stop()
        if burst.unexpected or burst.statuses[503] or burst.statuses.get("transport"):
            raise Failure(f"with DATABASE_PREPARED_STATEMENTS=auto through pgbouncer: {dict(burst.statuses)} {burst.unexpected[:3]}: {auto.log_tail(5)}")
        hits = prepared_statement_errors(auto.log() + open(f"{primary.root}/postgres.log").read())
        if hits:
            raise Failure(f"prepared-statement errors in the auto run's or postgres's log: {hits[:2]}")
        wait_projected(primary, database)
        account(primary, database, {**load.acked, **burst.acked})
        row["notes"] += f"; auto: burst of {len(burst.acked)} acked, {dict(burst.statuses)}"
        row["acked"] += len(burst.acked)
        row["found"] += len(burst.acked)
        return row
    finally:
        if readers:
            readers.running = False
        if load:
            load.running = False
        down.close()


def prepared_statement_errors(log):
    """Lines telling of named prepared statements lost between server sessions: PostgreSQL's message, or the
    service's error line, which names only the SQLSTATE (26000 invalid_sql_statement_name, 42P05
    duplicate_prepared_statement)."""
    return [line for line in log.splitlines() if re.search(r"prepared statement|\b(26000|42P05)\b", line, re.I)]


def bouncer_stats(bouncer, database):
    """Transactions pgbouncer passed and the most server connections it opened for the database."""
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(bouncer.port), "-U", "postgres", "-d", "pgbouncer", "-X", "-A", "-F", "|",
                          "-c", "SHOW STATS", "-c", "SHOW POOLS"], capture_output=True, text=True, timeout=30)
    tables, current = [], None
    for line in out.stdout.splitlines():
        if line.startswith("database|"):
            current = line.split("|")
            tables.append([])
        elif current and "|" in line:
            tables[-1].append(dict(zip(current, line.split("|"))))
    try:
        stats = next(r for r in tables[0] if r["database"] == database)
        pools = next(r for r in tables[1] if r["database"] == database)
        return (f"{stats['total_xact_count']} transactions from {pools['cl_active']} active + {pools['cl_waiting']} waiting clients "
                f"over {int(pools['sv_active']) + int(pools['sv_idle']) + int(pools['sv_used'])} server connections")
    except (IndexError, KeyError, StopIteration):
        return f"stats unavailable ({out.stderr.strip()[:100]})"


# 5. ------------------------------------------------------------------------------------------------------
def projector_takeover(ctx):
    """Two projectors (one over TCP, one over the Unix socket: different client addresses), a receiver
    under steady load; the active projector is killed with -9 and the other must run all four projections
    within 10 s, with nothing applied twice or skipped."""
    root, down = scenario_root(ctx, "takeover"), Teardown()
    load = None
    try:
        primary = down.add(Node.primary(root, "primary"))
        database = primary.create_database("billing")
        receiver = down.add(TopologyService(ctx.binary, primary.url(database), root, role="receiver", name="receiver"))
        receiver.wait_ready()
        # Started one after the other, in a random order: the first takes every projection, the other stands by.
        order = random.sample([("tcp", primary.url(database)), ("socket", primary.socket_url(database))], 2)
        projectors = {}
        for label, url in order:
            projectors[label] = down.add(TopologyService(ctx.binary, url, root, role="projector", name=f"projector-{label}"))
            projectors[label].wait_ready()
            if len(projectors) == 1:
                wait_for(lambda: sum(active_projections(projectors[label]).values()) == PROJECTIONS, 20, "the first projector to run every projection")
        tcp, socket = projectors["tcp"], projectors["socket"]
        load = Load(receiver.port, ctx.rate).start()
        for _ in range(10):
            time.sleep(0.2)
            a, b = active_projections(tcp), active_projections(socket)
            names = set(a) | set(b)
            if len(names) != PROJECTIONS or any(a.get(n, 0) + b.get(n, 0) != 1 for n in names):
                raise Failure(f"not exactly one active projector per projection: tcp {a}, socket {b}")
        a, b = active_projections(tcp), active_projections(socket)
        victim, survivor = (tcp, socket) if sum(a.values()) >= sum(b.values()) else (socket, tcp)
        victim_name = "tcp" if victim is tcp else "socket"
        time.sleep(random.random())
        killed_with = sum(active_projections(victim).values())
        victim.kill9()
        killed_at = time.monotonic()
        wait_for(lambda: sum(active_projections(survivor).values()) == PROJECTIONS, 10,
                 "the surviving projector to run all four projections", interval=0.05)
        takeover = time.monotonic() - killed_at
        time.sleep(2)
        if not survivor.alive():
            raise Failure("the surviving projector died: " + survivor.log_tail())
        notes = [f"started {order[0][0]} then {order[1][0]}; killed the {victim_name} projector (active for {killed_with:.0f}); "
                 f"the other ran all 4 after {takeover:.2f} s"]
        row = finish(on(ctx, primary), receiver, database, load, f"kill -9 active projector ({victim_name}) mid-load", notes)
        refuse_stray(load)
        return row
    finally:
        if load:
            load.running = False
        down.close()


SCENARIOS = [
    ("failover: kill -9 primary + promote", failover, True),
    ("replica paused: min_position", replica_paused, True),
    ("hot standby analysts (hot_standby_feedback)", hot_standby_analysts, True),
    ("pgbouncer transaction mode", pgbouncer_transactions, True),
    ("projector takeover (kill -9 active)", projector_takeover, True),
]
