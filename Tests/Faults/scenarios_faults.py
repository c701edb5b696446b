"""Database faults (stop, kill -9, backends terminated) and service faults (kill -9 during a burst,
a projection batch, a backfill) while deliveries stream in."""
import json, os, random, subprocess, time

from deliveries import mintcash_payment
from harness import Failure, Service, account, equals_rebuild, wait_for, wait_projected
from load import Load


def finish(ctx, service, database, load, faults, notes):
    """Drains the load, then: nothing unexpected answered, every acknowledged event once in the log,
    the read models caught up and equal to a rebuild."""
    load.stop()
    if load.unexpected:
        raise Failure(f"unexpected answers: {load.unexpected[:3]}")
    if not service.alive():
        raise Failure("the service died: " + service.log_tail())
    wait_projected(ctx.cluster, database)
    acked, found, lost, duplicated = account(ctx.cluster, database, load.acked)
    rows = equals_rebuild(ctx.binary, ctx.cluster, database)
    notes.append(f"read models = rebuild ({rows} rows)")
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(load.statuses.items(), key=str))
    notes.append(statuses)
    return dict(load=load.describe(), faults=faults, acked=acked, found=found, lost=lost, duplicated=duplicated, notes="; ".join(notes))


def database_fault(kind):
    def run(ctx):
        database = ctx.new_database()
        service = Service(ctx.binary, ctx.cluster, database, ctx.root)
        service.wait_ready()
        load = Load(service.port, ctx.rate).start()
        notes = []
        try:
            time.sleep(2)
            before = load.statuses[503]
            if kind == "terminate":
                for _ in range(3):
                    ctx.cluster.psql("postgres", f"""SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                                                     WHERE datname = '{database}' AND pid <> pg_backend_pid()""")
                    time.sleep(0.7)
                faults = "3x all backends terminated"
            else:
                if kind == "stop":
                    ctx.cluster.stop("fast")
                    faults = "stopped 2 s (fast)"
                else:
                    ctx.cluster.kill9()
                    faults = "kill -9 postgres, down 2 s"
                time.sleep(1)
                status, _ = service.get("/readyz")
                if status != 503:
                    raise Failure(f"/readyz answered {status} while the database was away")
                time.sleep(1)
                refused = load.statuses[503] - before
                if refused == 0:
                    raise Failure("no 503 while the database was away")
                notes.append(f"{refused} answered 503 while away")
                ctx.cluster.start()
            load.mark("up")
            wait_for(lambda: load.recovery("up") is not None, 30, "the first acknowledgement after the database came back")
            notes.append(f"recovered in {load.recovery('up'):.2f} s")
            time.sleep(2)
            unavailable = service.metric("billing_events_webhook_deliveries_total", outcome="unavailable")
            if unavailable != load.statuses[503]:
                raise Failure(f"{load.statuses[503]} answered 503 but the metric counts {unavailable}")
            return finish(ctx, service, database, load, faults, notes)
        finally:
            load.running = False
            service.stop()
    return run


def service_kill_burst(ctx):
    database = ctx.new_database()
    service = Service(ctx.binary, ctx.cluster, database, ctx.root)
    service.wait_ready()
    load = Load(service.port, ctx.rate).start()
    try:
        time.sleep(2 + random.random())
        service.kill9()
        time.sleep(0.5)
        service.start()
        service.wait_ready()
        load.mark("up")
        wait_for(lambda: load.recovery("up") is not None, 30, "an acknowledgement after the restart")
        time.sleep(1.5)
        return finish(ctx, service, database, load, "kill -9 serve mid-burst, restart", [])
    finally:
        load.running = False
        service.stop()


def service_kill_projection(ctx):
    """The projector killed while it catches up a backlog, restarted: checkpoints commit with the writes,
    so no batch is applied twice or skipped (the rebuild's applied counts must match)."""
    database = ctx.new_database()
    receiver = Service(ctx.binary, ctx.cluster, database, ctx.root, role="receiver,api")
    receiver.wait_ready()
    load = Load(receiver.port, ctx.rate * 3, workers=24, make=lambda i: mintcash_payment(customer=f"cust_{i % 300}")).start()
    time.sleep(4)
    load.stop()
    projector = Service(ctx.binary, ctx.cluster, database, ctx.root, role="projector", env={"PROJECTION_BATCH_SIZE": "200"})
    try:
        def mid_batch():
            applied = ctx.cluster.psql(database, "SELECT coalesce(sum(events_applied), 0) FROM billing.projection_checkpoints")
            return int(applied) > 0
        wait_for(mid_batch, 60, "the projector to start applying")
        projector.kill9()
        behind = ctx.cluster.psql(database, "SELECT coalesce(sum(events_behind), 0) FROM analytics.freshness WHERE kind = 'projection'")
        projector.start()
        notes = [f"killed with {behind} events still to project"]
        if int(behind) == 0:
            raise Failure("the projector finished before the kill; the scenario tested nothing")
        return finish(ctx, receiver, database, load, "kill -9 projector mid-catch-up, restart", notes)
    finally:
        projector.stop()
        receiver.stop()


def service_kill_backfill(ctx):
    """A backfill killed part-way, while the receiver takes webhooks of some of the same events, then run
    again: it resumes, and every event is in the log once."""
    database = ctx.new_database()
    service = Service(ctx.binary, ctx.cluster, database, ctx.root)
    service.wait_ready()
    count = 10_000 if ctx.fast else 100_000
    deliveries = [mintcash_payment(customer=f"cust_{i % 500}") for i in range(count)]
    path = os.path.join(ctx.root, f"{database}.ndjson")
    with open(path, "wb") as f:
        for delivery in deliveries:
            f.write(delivery.body + b"\n")
    env = dict(os.environ, LOG_LEVEL="warning")
    env.pop("DATABASE_URL", None)
    args = [ctx.binary, "backfill", "--provider", "mintcash", "--batch-size", "500", "--database-url", ctx.cluster.url(database), path]
    overlap = random.sample(deliveries, 300)
    load = Load(service.port, ctx.rate, make=lambda i: overlap[i % len(overlap)])
    try:
        first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        load.start()
        wait_for(lambda: int(ctx.cluster.psql(database, "SELECT count(*) FROM billing.events WHERE channel = 'backfill'")) > count // 4,
                 120, "the backfill to get going", interval=0.05)
        first.kill()
        first.wait()
        imported = ctx.cluster.psql(database, "SELECT count(*) FROM billing.events")
        second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        if second.returncode != 0:
            raise Failure(f"the second backfill failed: {second.stdout}{second.stderr}")
        if "resumed after record" not in second.stdout:
            raise Failure(f"the second backfill did not resume: {second.stdout}")
        load.stop()
        acked = dict(load.acked)
        for delivery in deliveries:
            acked.setdefault(delivery.marker, "backfill")
        load.acked = acked
        notes = [f"killed at {imported} of {count} events", "resumed"]
        row = finish(ctx, service, database, load, "kill -9 backfill at >25%, run again", notes)
        account(ctx.cluster, database, acked, expected_rows=count)
        row["load"] = f"backfill {count} + webhooks of 300 of them"
        return row
    finally:
        load.running = False
        service.stop()


SCENARIOS = [
    ("database stopped", database_fault("stop"), True),
    ("database kill -9", database_fault("kill9"), True),
    ("backends terminated", database_fault("terminate"), True),
    ("service kill -9 (burst)", service_kill_burst, True),
    ("service kill -9 (projection)", service_kill_projection, True),
    ("service kill -9 (backfill)", service_kill_backfill, True),
]
