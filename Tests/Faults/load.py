"""A steady stream of unique signed deliveries at a target rate over keep-alive connections, behaving
like a provider: what is not answered 200 is sent again later, and a share of acknowledged deliveries
is sent again anyway (at-least-once delivery; Flexprice under a new svix-id)."""
import collections, http.client, json, random, threading, time

from deliveries import any_provider


class Load:
    def __init__(self, port, rate, workers=16, resend_share=0.05, make=any_provider):
        self.port, self.rate, self.workers, self.resend_share, self.make = port, rate, workers, resend_share, make
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.acked = {}              # marker -> event id answered with 200
        self.pending = collections.deque()  # deliveries to send again (not yet acknowledged)
        self.latencies = []          # (time, ms) of acknowledged sends
        self.unexpected = []         # answers that are neither 200 nor 503
        self.count = 0
        self.first_ok_after = {}     # label -> time of the first 200 after mark(label)
        self.marks = {}
        self.running = False
        self.threads = []

    def start(self):
        self.running = True
        self.started = time.monotonic()
        self.threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(self.workers)]
        for thread in self.threads:
            thread.start()
        return self

    def mark(self, label):
        """Remembers now; `recovery(label)` is the time from it to the first acknowledgement after it."""
        with self.lock:
            self.marks[label] = time.monotonic()

    def recovery(self, label):
        with self.lock:
            first = self.first_ok_after.get(label)
            return None if first is None else first - self.marks[label]

    def next_delivery(self):
        with self.lock:
            if self.pending and (self.pending[0][0] <= time.monotonic()):
                return self.pending.popleft()[1]
            index = self.count
            self.count += 1
        if self.acked and random.random() < self.resend_share:
            with self.lock:
                again = self.last_acked
            return again.resent_by_flexprice() if again.provider == "flexprice" else again
        return self.make(index)

    def send(self, conn, delivery):
        began = time.monotonic()
        conn.request("POST", delivery.path, body=delivery.body, headers=delivery.headers())
        response = conn.getresponse()
        body = response.read()
        return response.status, body, (time.monotonic() - began) * 1000

    def worker(self, index):
        interval = self.workers / self.rate
        next_at = time.monotonic() + random.random() * interval
        conn = None
        while self.running:
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_at = max(next_at + interval, time.monotonic() - interval)
            delivery = self.next_delivery()
            self.attempt(delivery, conn_box := [conn])
            conn = conn_box[0]
        if conn:
            conn.close()

    def attempt(self, delivery, conn_box):
        """One send; returns True when acknowledged. Reconnects after a transport error."""
        try:
            if conn_box[0] is None:
                conn_box[0] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            status, body, ms = self.send(conn_box[0], delivery)
        except (OSError, http.client.HTTPException):
            if conn_box[0]:
                conn_box[0].close()
            conn_box[0] = None
            status, body, ms = "transport", b"", 0
        now = time.monotonic()
        with self.lock:
            self.statuses[status] += 1
            if status == 200:
                answer = json.loads(body)
                if answer.get("status") not in ("stored", "duplicate"):
                    self.unexpected.append((status, body[:200]))
                    return False
                self.acked[delivery.marker] = answer["event_id"]
                self.last_acked = delivery
                self.latencies.append((now, ms))
                for label, at in self.marks.items():
                    if label not in self.first_ok_after and now > at:
                        self.first_ok_after[label] = now
                return True
            if status not in (503, "transport"):
                self.unexpected.append((status, body[:200]))
            self.pending.append((now + 0.2, delivery))
            return False

    def stop(self, drain_seconds=60):
        """Stops the stream, then sends every unacknowledged delivery until it is acknowledged."""
        if self.running:
            self.running = False
            for thread in self.threads:
                thread.join()
            self.stopped = time.monotonic()
            self.sent = sum(self.statuses.values())
        deadline = time.monotonic() + drain_seconds
        conn_box = [None]
        while True:
            with self.lock:
                left = [d for _, d in self.pending if d.marker not in self.acked]
                self.pending.clear()
            if not left:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(left)} deliveries never acknowledged")
            for delivery in left:
                if not self.attempt(delivery, conn_box):
                    time.sleep(0.05)
        return self

    def p(self, q, since=None):
        values = sorted(ms for at, ms in self.latencies if since is None or at >= since)
        return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")

    def describe(self):
        return f"{self.rate}/s target, {self.sent / max(self.stopped - self.started, 1e-9):.0f}/s sent, {self.workers} connections"
