"""Soak: deliveries at the target rate and the query API under read load for many minutes; prints RSS,
p99 latencies and errors per window. Memory must stay flat, p99 stable, no error, nothing lost."""
import http.client, multiprocessing, queue, random, re, threading, time

from harness import Failure, Service
from load import Load
from scenarios_api import create_key
from scenarios_faults import finish

WINDOW = 30


def rss_mib(pid):
    return int(re.search(r"VmRSS:\s+(\d+) kB", open(f"/proc/{pid}/status").read()).group(1)) / 1024


class Readers:
    """A process of its own (so the delivery generator keeps the interpreter to itself) whose threads
    list payments, customers and events (following cursors) as internal services do; each answer's
    (time, ms) or error comes back through a queue."""

    PATHS = ["/v1/payments?limit=20", "/v1/customers?limit=50", "/v1/events?limit=20&provider=mintcash"]

    def __init__(self, port, token, threads=4):
        self.port, self.token, self.threads = port, token, threads
        self.samples, self.errors = [], []
        context = multiprocessing.get_context("fork")
        self.queue, self.stopping = context.Queue(), context.Event()
        self.process = context.Process(target=self.run, daemon=True)
        self.process.start()
        # Drained as it comes: a pipe left unread fills, and answers would reach a later window.
        self.lock = threading.Lock()
        self.drainer = threading.Thread(target=self.drain, daemon=True)
        self.drainer.start()

    def run(self):
        workers = [threading.Thread(target=self.read) for _ in range(self.threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()

    def read(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        cursor = None
        while not self.stopping.is_set():
            path = random.choice(self.PATHS)
            if cursor and random.random() < 0.5:
                path = f"/v1/payments?limit=20&cursor={cursor}"
            began = time.monotonic()
            try:
                conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                self.queue.put(("error", str(error)))
                continue
            self.queue.put(("sample", (time.monotonic(), (time.monotonic() - began) * 1000)))
            if response.status != 200:
                self.queue.put(("error", f"{path} -> {response.status}"))
            match = re.search(rb'"next_cursor":"([^"]+)"', body) if path.startswith("/v1/payments") else None
            cursor = match.group(1).decode() if match else None
            time.sleep(0.01)

    def drain(self):
        while self.process.is_alive() or not self.queue.empty():
            try:
                kind, value = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            with self.lock:
                (self.samples if kind == "sample" else self.errors).append(value)

    def window(self, start, end):
        """(milliseconds of the answers in [start, end), errors so far)."""
        with self.lock:
            return [ms for at, ms in self.samples if start <= at < end], len(self.errors)

    def stop(self):
        self.stopping.set()
        self.process.join(30)
        self.process.kill()
        self.drainer.join(5)


def p99(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))] if values else float("nan")


def soak(minutes):
    def run(ctx):
        database = ctx.new_database()
        service = Service(ctx.binary, ctx.cluster, database, ctx.root)
        service.wait_ready()
        token, _ = create_key(ctx, database, "soak")
        readers = Readers(service.port, token)  # forked before the generator's threads exist
        load = Load(service.port, ctx.rate).start()
        windows = []
        try:
            began = time.monotonic()
            print(f"soak: {'minute':>6} {'RSS MiB':>8} {'webhooks/s':>10} {'webhook p99 ms':>14} {'queries/s':>9} {'query p99 ms':>12} {'errors':>6}", flush=True)
            while time.monotonic() - began < minutes * 60:
                start = time.monotonic()
                time.sleep(WINDOW)
                end = time.monotonic()
                hooks = [ms for at, ms in load.latencies if start <= at < end]
                queries, query_errors = readers.window(start, end)
                errors = len(load.unexpected) + query_errors + sum(v for k, v in load.statuses.items() if k != 200)
                windows.append((end - began, rss_mib(service.process.pid), len(hooks) / WINDOW, p99(hooks), len(queries) / WINDOW, p99(queries), errors))
                print("soak: {:6.1f} {:8.1f} {:10.0f} {:14.1f} {:9.0f} {:12.1f} {:6d}".format(windows[-1][0] / 60, *windows[-1][1:]), flush=True)
            readers.stop()
            if readers.errors:
                raise Failure(f"query errors: {readers.errors[:3]}")
            if windows[-1][6]:
                raise Failure(f"{windows[-1][6]} delivery errors: {dict(load.statuses)} {load.unexpected[:3]}")
            settled = windows[min(3, len(windows) - 1)]  # after two minutes of warm-up
            growth = windows[-1][1] / settled[1] - 1
            worst = max(w[3] for w in windows[1:])
            if growth > 0.25:
                raise Failure(f"RSS grew {growth * 100:.0f} % after warm-up ({settled[1]:.0f} -> {windows[-1][1]:.0f} MiB)")
            first_p99 = sorted(w[3] for w in windows[1:])[len(windows[1:]) // 2]
            if worst > max(5 * first_p99, 250):
                raise Failure(f"webhook p99 not stable: median window {first_p99:.1f} ms, worst {worst:.1f} ms")
            if any(w[4] == 0 for w in windows):
                raise Failure("a 30-second window without one query answered: the API stalled")
            query_p99 = [w[5] for w in windows[1:]]
            if max(query_p99) > max(5 * min(query_p99), 250):
                raise Failure(f"query p99 not stable: {min(query_p99):.1f} ms at best, {max(query_p99):.1f} ms at worst "
                              f"(p99 per window: {', '.join(f'{v:.0f}' for v in query_p99)})")
            notes = [f"RSS {windows[0][1]:.0f} -> {settled[1]:.0f} (2 min) -> {windows[-1][1]:.0f} MiB ({growth * 100:+.1f} % after warm-up)",
                     f"webhook p99 per 30 s window: median {first_p99:.1f} ms, worst {worst:.1f} ms",
                     f"queries {sum(w[4] for w in windows) / len(windows):.0f}/s, p99 median {sorted(w[5] for w in windows)[len(windows) // 2]:.1f} ms"]
            row = finish(ctx, service, database, load, f"none ({minutes:g} min)", notes)
            row["load"] += " + 4 API readers"
            return row
        finally:
            readers.stop()
            load.running = False
            service.stop()
    return run


def scenarios(minutes):
    return [(f"soak {minutes:g} min", soak(minutes), False)]
