"""Concurrency: one delivery 100 times at once, a payment's whole life cycle in random order from many
connections, and a long analyst transaction that holds the projector back while ingest continues."""
import http.client, json, random, subprocess, threading, time

from deliveries import flexprice_payment, mintcash_payment, mintfax_fax
from harness import Failure, Service, account, equals_rebuild, wait_for, wait_projected
from load import Load
from scenarios_faults import finish


def at_once(port, deliveries):
    """Sends each delivery on its own connection, all released by one barrier; returns the answers."""
    barrier = threading.Barrier(len(deliveries))
    answers = [None] * len(deliveries)

    def send(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.connect()
        headers = deliveries[i].headers()
        barrier.wait()
        try:
            conn.request("POST", deliveries[i].path, body=deliveries[i].body, headers=headers)
            response = conn.getresponse()
            answers[i] = (response.status, json.loads(response.read() or b"{}"))
        except Exception as error:  # noqa: BLE001
            answers[i] = ("error", str(error))
        finally:
            conn.close()
    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(deliveries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def same_delivery_at_once(ctx):
    database = ctx.new_database()
    service = Service(ctx.binary, ctx.cluster, database, ctx.root, env={"DATABASE_POOL_SIZE": "16"})
    service.wait_ready()
    try:
        acked, notes = {}, []
        for make in (mintcash_payment, flexprice_payment, mintfax_fax):
            delivery = make()
            copies = [delivery] * 50 + ([delivery.resent_by_flexprice() for _ in range(50)] if delivery.provider == "flexprice" else [delivery] * 50)
            answers = at_once(service.port, copies)
            statuses = [a[0] for a in answers]
            if statuses != [200] * 100:
                raise Failure(f"{delivery.provider}: answers {sorted(set(map(str, statuses)))}: {[a for a in answers if a[0] != 200][:2]}")
            kinds = [a[1]["status"] for a in answers]
            ids = {a[1]["event_id"] for a in answers}
            if kinds.count("stored") != 1 or kinds.count("duplicate") != 99 or len(ids) != 1:
                raise Failure(f"{delivery.provider}: {kinds.count('stored')} stored, {kinds.count('duplicate')} duplicate, {len(ids)} event ids")
            acked[delivery.marker] = ids.pop()
            notes.append(f"{delivery.provider}: 1 stored + 99 duplicate, one id")
        found = account(ctx.cluster, database, acked, expected_rows=3)
        return dict(load="100 identical deliveries at once x3 providers", faults="100 connections racing", acked=300,
                    found=300 if found[1] == 3 else found[1], lost=found[2], duplicated=found[3], notes="; ".join(notes) + " (Flexprice half under new svix-ids)")
    finally:
        service.stop()


LIFECYCLE = [("payment.created", "created"), ("payment.pending", "pending"), ("payment.authorized", "authorized"),
             ("payment.succeeded", "succeeded"), ("payment.partially_refunded", "partially_refunded"), ("payment.refunded", "refunded")]
COLUMNS = ("provider_id, status, provider_status, amount, currency, amount_refunded, amount_refundable, succeeded_at, refunded_at, "
           "status_as_of, details_as_of, status_event_id, details_event_id")


def lifecycle_events(payments):
    events = []
    for p in range(payments):
        payment_id = f"pmt_life_{random.getrandbits(48):012x}"
        for step, (event, status) in enumerate(LIFECYCLE):
            refunded = {"partially_refunded": "10.00", "refunded": "49.99"}.get(status, "0")
            delivery = mintcash_payment(payment_id, status, event, f"2026-05-22T14:3{step}:00.000Z", customer=f"cust_life_{p}")
            delivery.body = delivery.body.replace(b'"amountRefunded":0', b'"amountRefunded":' + refunded.encode())
            events.append(delivery)
    return events


def lifecycle_random_order(ctx):
    """Every step of 20 payments' life cycles, each sent 3 times, shuffled over 16 connections, must fold to
    the same rows as the steps sent once in order."""
    shuffled_db, ordered_db = ctx.new_database(), ctx.new_database()
    events = lifecycle_events(20)
    shuffled = Service(ctx.binary, ctx.cluster, shuffled_db, ctx.root)
    ordered = Service(ctx.binary, ctx.cluster, ordered_db, ctx.root)
    try:
        shuffled.wait_ready(); ordered.wait_ready()
        copies = events * 3
        random.shuffle(copies)
        queue = list(copies)
        load = Load(shuffled.port, ctx.rate)  # not started: its attempt() sends, re-connects and tallies
        answers = []
        lock = threading.Lock()

        def worker():
            conn_box = [None]
            while True:
                with lock:
                    if not queue:
                        return
                    delivery = queue.pop()
                while not load.attempt(delivery, conn_box):
                    time.sleep(0.05)
                with lock:
                    answers.append(delivery.marker)
        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        conn_box, in_order = [None], Load(ordered.port, ctx.rate)
        for delivery in events:
            if not in_order.attempt(delivery, conn_box):
                raise Failure("an in-order delivery was not acknowledged")
        for db in (shuffled_db, ordered_db):
            wait_projected(ctx.cluster, db)
        rows = lambda db: ctx.cluster.psql(db, f"SELECT {COLUMNS} FROM billing.payments ORDER BY provider_id")  # noqa: E731
        if rows(shuffled_db) != rows(ordered_db):
            pairs = [(a, b) for a, b in zip(rows(shuffled_db).splitlines(), rows(ordered_db).splitlines()) if a != b]
            raise Failure(f"shuffled and in-order deliveries folded to {len(pairs)} different payments, e.g. {pairs[0][0]} vs in order {pairs[0][1]}")
        final = ctx.cluster.psql(shuffled_db, "SELECT DISTINCT status || ' ' || amount_refunded FROM billing.payments")
        if final != "refunded 49.99":
            raise Failure(f"final states {final!r}, expected every payment refunded 49.99")
        versions = ctx.cluster.psql(shuffled_db, "SELECT count(*) FROM billing.payment_versions")
        if load.unexpected:
            raise Failure(f"unexpected answers: {load.unexpected[:3]}")
        # Six events per payment share the payment's id: count them by event instead of by entity.
        stored = int(ctx.cluster.psql(shuffled_db, "SELECT count(*) FROM billing.events"))
        distinct = int(ctx.cluster.psql(shuffled_db, "SELECT count(DISTINCT (entity_provider_id, as_of)) FROM billing.events"))
        rebuilt = equals_rebuild(ctx.binary, ctx.cluster, shuffled_db)
        return dict(load=f"{len(copies)} deliveries of {len(events)} events, 16 connections", faults="random order, each event 3x",
                    acked=len(events), found=distinct, lost=len(events) - distinct, duplicated=stored - distinct,
                    notes=f"20 payments x {len(LIFECYCLE)} steps fold as in order (refunded 49.99); {versions} payment versions; "
                          f"read models = rebuild ({rebuilt} rows)")
    finally:
        shuffled.stop(); ordered.stop()


def long_analyst_transaction(ctx):
    """An analyst's transaction holding an xid stays open while ingest continues: the projector must not
    read past it (that would skip events committed later by writers it cannot see yet); the lag and
    oldest-transaction metrics show why it waits; once it closes, everything is applied."""
    database = ctx.new_database()
    service = Service(ctx.binary, ctx.cluster, database, ctx.root)
    service.wait_ready()
    analyst = subprocess.Popen(["psql", "-h", ctx.cluster.socket, "-U", "postgres", "-d", database, "-X", "-q"],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    load = Load(service.port, ctx.rate)
    try:
        analyst.stdin.write("BEGIN;\nSELECT txid_current();\nSELECT count(*) FROM analytics.events;\n")
        analyst.stdin.flush()
        time.sleep(0.5)
        load.start()
        time.sleep(4)
        lag = service.metric("billing_events_projection_lag_events", projection="payments")
        oldest = service.metric("billing_events_oldest_transaction_seconds")
        applied = int(ctx.cluster.psql(database, "SELECT events_applied FROM billing.projection_checkpoints WHERE name = 'payments'"))
        if lag < 100 or oldest < 3:
            raise Failure(f"while the transaction was open: lag {lag}, oldest transaction {oldest} s, applied {applied}")
        analyst.stdin.write("COMMIT;\n")
        analyst.stdin.flush()
        load.mark("closed")
        wait_for(lambda: service.metric("billing_events_projection_lag_events", projection="payments") < lag / 4, 15,
                 "the projector to move once the transaction closed")
        return finish(ctx, service, database, load, "analyst transaction open 4.5 s during ingest",
                      [f"held back: payments lag {lag:.0f} events, oldest transaction {oldest:.1f} s, {applied} applied before"])
    finally:
        load.running = False
        analyst.stdin.close()
        analyst.wait()
        service.stop()


SCENARIOS = [
    ("same delivery 100x at once", same_delivery_at_once, True),
    ("life cycle in random order", lifecycle_random_order, True),
    ("long analyst transaction", long_analyst_transaction, True),
]
