"""The parts every fault scenario uses: a private PostgreSQL cluster that can be stopped, killed and
restarted under the service, `billing-events` processes, psql, /metrics, and the checks that the log
holds every acknowledged event exactly once and that the read models equal a rebuild."""
import glob, http.client, os, re, shutil, signal, socket, subprocess, time

AS_ROOT = os.geteuid() == 0
PG_BIN = os.path.dirname((sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or [shutil.which("pg_ctl") or "pg_ctl"])[-1])
SECRETS = {
    "FLEXPRICE_WEBHOOK_SECRETS": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "MINTFAX_WEBHOOK_SECRETS": "whsec_dGVzdCBzZWNyZXQgZm9yIG1pbnRmYXg=",
    "MINTCASH_WEBHOOK_SECRETS": "faults-mintcash-secret",
}
READ_MODEL_TABLES = ["customers", "subscriptions", "payments", "refunds", "wallets", "wallet_transactions"]
VERSION_TABLES = ["subscription_versions", "payment_versions", "refund_versions", "wallet_versions"]


class Failure(Exception):
    """A guarantee that did not hold."""


class Fatal(Failure):
    """A failure that waiting longer cannot mend (the process under test exited)."""


def as_postgres(args, **kwargs):
    return subprocess.run((["runuser", "-u", "postgres", "--"] if AS_ROOT else []) + args, **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Fatal:
            raise
        except Exception:
            pass
        time.sleep(interval)
    raise Failure(f"timed out after {timeout} s waiting for {what}")


class Cluster:
    """A throwaway PostgreSQL 15 cluster on a Unix socket under `root`, durable settings (fsync and
    synchronous_commit on), so a kill -9 tests real crash recovery."""

    def __init__(self, root):
        self.root, self.data, self.socket = root, os.path.join(root, "data"), os.path.join(root, "socket")
        os.makedirs(self.socket)
        if AS_ROOT:
            shutil.chown(root, "postgres"); shutil.chown(self.socket, "postgres")
        as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
                    check=True, capture_output=True)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            conf.write(f"listen_addresses = ''\nunix_socket_directories = '{self.socket}'\nmax_connections = 300\n"
                       "shared_buffers = 128MB\nfsync = on\nsynchronous_commit = on\n")
        self.start()

    def start(self):
        as_postgres([f"{PG_BIN}/pg_ctl", "start", "-w", "-t", "60", "-D", self.data, "-l", os.path.join(self.root, "postgres.log")],
                    check=True, capture_output=True)

    def stop(self, mode="fast"):
        as_postgres([f"{PG_BIN}/pg_ctl", "stop", "-w", "-D", self.data, "-m", mode], capture_output=True)

    def kill9(self):
        """SIGKILL to the postmaster and every backend at once: a crash, recovered from the WAL at the next start."""
        postmaster = int(open(os.path.join(self.data, "postmaster.pid")).readline())
        children = [int(p) for p in subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()]
        for pid in [postmaster] + children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: all(not os.path.exists(f"/proc/{pid}") for pid in [postmaster] + children), 10, "the killed postgres to exit")

    def url(self, database):
        return f"host={self.socket} user=postgres dbname={database}"

    def psql(self, database, sql, timeout=60):
        out = subprocess.run(["psql", "-h", self.socket, "-U", "postgres", "-d", database, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise Failure(f"psql failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def create_database(self, name):
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class Service:
    """`billing-events serve` against one database of the cluster, on its own port, log in a file."""

    def __init__(self, binary, cluster, database, root, role=None, env=None, args=()):
        self.binary, self.cluster, self.database = binary, cluster, database
        self.port = free_port()
        self.log_path = os.path.join(root, f"serve-{self.port}.log")
        self.args = ["serve", "--port", str(self.port), "--database-url", cluster.url(database)] + (["--role", role] if role else []) + list(args)
        self.env = dict(os.environ, LOG_LEVEL="warning", **SECRETS, **(env or {}))
        for name in ("DATABASE_URL", "READ_DATABASE_URL", "ROLE", "LOG_FORMAT"):
            self.env.pop(name, None)
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen([self.binary] + self.args, env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=open(self.log_path, "a"), start_new_session=True)

    def wait_ready(self, timeout=60):
        def ready():
            if self.process.poll() is not None:
                raise Fatal(f"serve exited with {self.process.returncode}: {self.log_tail()}")
            return self.get("/readyz", timeout=2)[0] == 200
        wait_for(ready, timeout, f"serve to be ready (log: {self.log_path})")

    def alive(self):
        return self.process.poll() is None

    def kill9(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def get(self, path, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def metrics(self):
        """The exposition as {(name, ((label, value), ...)): float}."""
        status, body = self.get("/metrics")
        if status != 200:
            raise Failure(f"/metrics answered {status}")
        values = {}
        for line in body.decode().splitlines():
            match = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
            if match:
                labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or "")))
                values[(match.group(1), labels)] = float(match.group(3))
        return values

    def metric(self, name, **labels):
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.metrics().items() if n == name and wanted <= set(ls))

    def log_tail(self, lines=30):
        try:
            return "".join(open(self.log_path).readlines()[-lines:])
        except OSError:
            return ""


def run_command(binary, cluster, database, *args, timeout=600):
    env = dict(os.environ, LOG_LEVEL="warning", **SECRETS)
    env.pop("DATABASE_URL", None)
    return subprocess.run([binary] + list(args) + ["--database-url", cluster.url(database)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def log_census(cluster, database):
    """{entity_provider_id: rows} over the whole log; every delivery the suite makes names a unique entity."""
    out = cluster.psql(database, "SELECT entity_provider_id || ' ' || count(*) FROM billing.events GROUP BY entity_provider_id")
    return {key: int(n) for key, n in (line.rsplit(" ", 1) for line in out.splitlines() if line)}


def account(cluster, database, acked, expected_rows=None):
    """(acked, found, lost, duplicated) for the acknowledged markers; raises unless nothing is lost or doubled."""
    census = log_census(cluster, database)
    found = sum(1 for marker in acked if census.get(marker, 0) >= 1)
    duplicated = sum(n - 1 for n in census.values() if n > 1)
    lost = len(acked) - found
    if lost or duplicated:
        missing = [m for m in acked if m not in census][:5]
        raise Failure(f"{lost} acknowledged events lost (e.g. {missing}), {duplicated} duplicated")
    if expected_rows is not None and sum(census.values()) != expected_rows:
        raise Failure(f"the log holds {sum(census.values())} events, expected {expected_rows}")
    return len(acked), found, lost, duplicated


def dump_read_models(cluster, database):
    rows = []
    for table in READ_MODEL_TABLES:
        rows += cluster.psql(database, f"SELECT '{table} ' || row_to_json(t)::text FROM billing.{table} t ORDER BY id").splitlines()
    for table in VERSION_TABLES:
        rows += cluster.psql(database, f"SELECT '{table} ' || row_to_json(t)::text FROM billing.{table} t ORDER BY id, register, event_id").splitlines()
    rows += cluster.psql(database, "SELECT 'dead ' || projection || ' ' || event_id FROM billing.projection_dead_letters ORDER BY 1").splitlines()
    return rows


def wait_projected(cluster, database, timeout=120):
    """Until every projection's checkpoint covers the whole log (no open transaction may hide an event)."""
    def caught_up():
        projections = cluster.psql(database, "SELECT count(*), count(*) FILTER (WHERE events_behind > 0) FROM analytics.freshness WHERE kind = 'projection'")
        return projections == "4|0"
    wait_for(caught_up, timeout, "the projections to catch up", interval=0.25)


def applied_counts(cluster, database):
    return dict(line.split("|") for line in cluster.psql(database, "SELECT name, events_applied FROM billing.projection_checkpoints ORDER BY name").splitlines())


def equals_rebuild(binary, cluster, database):
    """Dumps the live read models, rebuilds every projection from the log and compares (rows, and the
    number of events each projection applied: a batch applied twice or skipped shows there)."""
    live, applied = dump_read_models(cluster, database), applied_counts(cluster, database)
    result = run_command(binary, cluster, database, "projections", "rebuild")
    if result.returncode != 0:
        raise Failure(f"rebuild failed: {result.stdout}{result.stderr}")
    rebuilt = dump_read_models(cluster, database)
    if live != rebuilt:
        diff = [r for r in live if r not in set(rebuilt)][:3] + ["--- rebuilt:"] + [r for r in rebuilt if r not in set(live)][:3]
        raise Failure(f"read models differ from a rebuild ({len(live)} vs {len(rebuilt)} rows): " + "\n".join(diff))
    reported = {m.group(1): m.group(2) for m in re.finditer(r"^(\w+): (\d+) events applied", result.stdout, re.M)}
    if reported != applied:
        raise Failure(f"events applied live {applied} but by the rebuild {reported}")
    return len(live)
