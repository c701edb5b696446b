"""Hostile input: a fuzzer of signed bodies and signature headers; slow clients (slowloris, slow bodies),
oversized headers and connection floods while a steady load must keep being served."""
import collections, http.client, json, random, socket, threading, time

import fuzz
from deliveries import mintcash_payment
from harness import Failure, Service, wait_for
from load import Load
from scenarios_faults import finish


def post(port, delivery, headers, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", delivery.path, body=delivery.body, headers=headers or delivery.headers())
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        return f"transport ({type(error).__name__})", b""
    finally:
        conn.close()


def fuzzer(ctx):
    database = ctx.new_database()
    service = Service(ctx.binary, ctx.cluster, database, ctx.root)
    service.wait_ready()
    try:
        count = 400 if ctx.fast else 3000
        seed = random.randrange(1 << 30)
        tally, wrong = collections.Counter(), []
        events, quarantined = set(), set()
        for name, delivery, headers, allowed in fuzz.cases(count, seed):
            status, body = post(service.port, delivery, headers)
            tally[(name, status)] += 1
            if status not in allowed:
                wrong.append(f"{name} ({len(delivery.body)} bytes) -> {status} {body[:120]!r}")
                if not service.alive():
                    raise Failure(f"the service died on {name} (seed {seed}): {service.log_tail()}")
                continue
            if status == 200:
                answer = json.loads(body)
                if answer["status"] == "quarantined":
                    quarantined.add(answer["quarantine_id"])
                else:
                    events.add(answer["event_id"])
        if wrong:
            raise Failure(f"{len(wrong)} wrong answers (seed {seed}): " + " | ".join(wrong[:4]))
        stored_events = int(ctx.cluster.psql(database, "SELECT count(*) FROM billing.events"))
        kept = int(ctx.cluster.psql(database, "SELECT count(*) FROM billing.quarantine"))
        if stored_events != len(events) or kept != len(quarantined):
            raise Failure(f"answered {len(events)} events and {len(quarantined)} quarantined, but the database holds {stored_events} and {kept}")
        if "request failed" in open(service.log_path).read():
            raise Failure("the service logged an unexpected error: " + service.log_tail())
        control = mintcash_payment()
        status, _ = post(service.port, control, None)
        if status != 200:
            raise Failure(f"a valid delivery after the fuzzing answered {status}")
        # (Mutations of one delivery may carry new event ids for the same entity, so count only the control.)
        if ctx.cluster.psql(database, f"SELECT count(*) FROM billing.events WHERE entity_provider_id = '{control.marker}'") != "1":
            raise Failure("the control delivery is not in the log exactly once")
        by_status = collections.Counter()
        for (name, status), n in tally.items():
            by_status[status] += n
        return dict(load=f"{sum(tally.values())} mutated deliveries (seed {seed})", faults="bodies: truncated, nested to 400k, huge numbers, "
                    "invalid UTF-8, NUL, duplicate keys, wrong types, 900 KB/10 MB strings; headers: bad/1000 signatures, bad timestamps",
                    acked=len(events) + len(quarantined) + 1, found=stored_events + kept + 1, lost=0, duplicated=0,
                    notes=f"{len(events)} stored, {len(quarantined)} quarantined (all in the database); answers " +
                          ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items(), key=str)) + "; no 5xx, no crash")
    finally:
        service.stop()


def open_connection(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x00" * 8)
    return s


def closed_by_server(s, received):
    """True when the server has closed the connection (EOF or reset), without waiting; what it sent
    before is added to received[s]."""
    s.setblocking(False)
    try:
        while data := s.recv(65536):
            received[s] = received.get(s, b"") + data
        return True
    except BlockingIOError:
        return False
    except OSError:
        received[s] = received.get(s, b"") + b"<reset>"
        return True


def slow_clients(ctx):
    """200 slowloris connections (headers one byte a second), 50 slow bodies, 20 oversized headers and a
    flood of 2,000 idle connections, all at once, while the load must be served with its usual latency;
    the server must cut every one of them off by itself: idle timeout 3 s (slowloris, idle flood), read
    timeout 2 s (a body dripping a byte every half second keeps the connection active, only the read
    deadline ends it, with a 408)."""
    database = ctx.new_database()
    service = Service(ctx.binary, ctx.cluster, database, ctx.root,
                      env={"HTTP_IDLE_TIMEOUT_SECONDS": "3", "HTTP_READ_TIMEOUT_SECONDS": "2"})
    service.wait_ready()
    load = Load(service.port, ctx.rate).start()
    hostile, stop_dripping = [], threading.Event()
    try:
        time.sleep(1)
        baseline = load.p(0.99)
        began = time.monotonic()
        slowloris, slow_bodies = [], []

        def drip():
            while not stop_dripping.is_set():
                for s in list(slowloris + slow_bodies):
                    try:
                        s.send(b"a")
                    except OSError:
                        pass
                stop_dripping.wait(0.5)
        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        for _ in range(200):
            s = open_connection(service.port)
            s.sendall(b"POST /webhooks/mintcash HTTP/1.1\r\nHost: x\r\n")
            slowloris.append(s)
        for _ in range(50):
            s = open_connection(service.port)
            s.sendall(b"POST /webhooks/mintcash HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
            slow_bodies.append(s)
        oversized = collections.Counter()
        for _ in range(20):
            s = open_connection(service.port)
            try:
                s.sendall(b"POST /webhooks/mintcash HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
                s.settimeout(5)
                oversized[s.recv(64).split(b"\r\n")[0].decode() or "closed"] += 1
            except OSError as error:
                oversized[type(error).__name__] += 1
            s.close()
        flood = [open_connection(service.port) for _ in range(2000)]
        hostile = slowloris + slow_bodies + flood
        opened = time.monotonic()
        received = {}
        wait_for(lambda: all([closed_by_server(s, received) for s in hostile]), 30, "the server to cut off slow and idle connections", interval=0.5)
        cut_after = time.monotonic() - opened
        # A client still sending when the server closes gets a reset, which discards the 408 already in its
        # receive buffer; every slow body must end in one or the other, and most show the 408.
        timed_out = sum(1 for s in slow_bodies if received.get(s, b"").startswith(b"HTTP/1.1 408 "))
        reset = sum(1 for s in slow_bodies if received.get(s, b"") == b"<reset>")
        if timed_out + reset != len(slow_bodies) or timed_out == 0:
            raise Failure(f"slow bodies: {timed_out} answered 408, {reset} reset, of {len(slow_bodies)}")
        stop_dripping.set()
        during = load.p(0.99, since=began)
        time.sleep(1)
        if not service.alive():
            raise Failure("the service died")
        row = finish(ctx, service, database, load, "200 slowloris, 50 slow bodies, 20 x 200 KB headers, 2,000 idle connections",
                     [f"opened in {opened - began:.1f} s, all cut off {cut_after:.1f} s later (slow bodies: {timed_out} read the 408, {reset} reset while sending)", f"oversized headers: {dict(oversized)}",
                      f"load p99 {baseline:.1f} ms before, {during:.1f} ms during"])
        if load.statuses[200] == 0 or set(load.statuses) - {200}:
            raise Failure(f"the load was not served while under attack: {dict(load.statuses)}")
        return row
    finally:
        load.running = False
        stop_dripping.set()
        for s in hostile:
            s.close()
        service.stop()


SCENARIOS = [
    ("fuzzed deliveries", fuzzer, True),
    ("slow clients and floods", slow_clients, True),
]
