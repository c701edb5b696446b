"""The parts of a production topology the topology scenarios build on 127.0.0.1: PostgreSQL nodes on TCP
(a primary, synchronous or asynchronous streaming standbys that can be promoted), PgBouncer in
transaction mode in front of a primary, and `billing-events serve` processes given explicit database
URLs and settings. A Node fits the suite's checks (account, wait_projected, equals_rebuild) the way
harness.Cluster does: .psql(database, sql) and .url(database)."""
import hashlib, os, shutil, signal, subprocess, uuid

from harness import AS_ROOT, PG_BIN, SECRETS, Cluster, Failure, Fatal, Service, as_postgres, free_port, wait_for

# Settings of the service that the suite sets explicitly; never inherited from the caller's environment.
SERVICE_SETTINGS = ("DATABASE_URL", "SESSION_DATABASE_URL", "READ_DATABASE_URL", "DATABASE_PREPARED_STATEMENTS",
                    "READ_MAX_LAG_SECONDS", "QUERY_POSITION_TIMEOUT_MS", "ROLE", "LOG_FORMAT")


def owned_by_postgres(*paths):
    for path in paths:
        os.makedirs(path, exist_ok=True)
        if AS_ROOT:
            shutil.chown(path, "postgres", "postgres")


class Node(Cluster):
    """A PostgreSQL 15 node on TCP 127.0.0.1:<port> (and a private Unix socket directory), durable
    (fsync and synchronous_commit on), ready to stream WAL to standbys (wal_level replica, trust for
    replication from 127.0.0.1). `Node.primary(...)` initialises one; `Node.standby_of(...)` copies one."""

    def __init__(self, root, name):
        # Cluster.__init__ would initdb and start: a Node does that in primary() or standby_of().
        self.name = name
        self.root = os.path.join(root, name)
        self.data, self.socket = os.path.join(self.root, "data"), os.path.join(self.root, "socket")
        self.port = free_port()
        owned_by_postgres(self.root, self.socket)

    @classmethod
    def primary(cls, root, name="primary", settings=None):
        node = cls(root, name)
        as_postgres([f"{PG_BIN}/initdb", "-D", node.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
                    check=True, capture_output=True)
        base = {"listen_addresses": "'127.0.0.1'", "port": node.port, "unix_socket_directories": f"'{node.socket}'",
                "max_connections": 300, "shared_buffers": "64MB", "fsync": "on", "synchronous_commit": "on",
                "wal_level": "replica", "max_wal_senders": 10, "hot_standby": "on", "wal_keep_size": "512MB"}
        base.update(settings or {})
        with open(os.path.join(node.data, "postgresql.conf"), "a") as conf:
            conf.write("".join(f"{k} = {v}\n" for k, v in base.items()))
        with open(os.path.join(node.data, "pg_hba.conf"), "a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        node.start()
        return node

    @classmethod
    def standby_of(cls, primary, name, sync=True, settings=None):
        """A streaming standby of `primary` (hot standby), registered as `name`. sync=True makes it the
        primary's synchronous standby (FIRST 1, synchronous_commit on): a commit is acknowledged only once
        the standby has flushed it, so promoting it loses nothing acknowledged. Waits until it streams."""
        node = cls(os.path.dirname(primary.root), name)
        as_postgres(["pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D", node.data,
                     "-R", "-X", "stream", "--no-sync"], check=True, capture_output=True, timeout=300)
        # postgresql.auto.conf is read last (and -R wrote primary_conninfo there): its last lines win.
        own = {"port": node.port, "unix_socket_directories": f"'{node.socket}'",
               "primary_conninfo": f"'host=127.0.0.1 port={primary.port} user=postgres application_name={name}'",
               "synchronous_standby_names": "''"}
        own.update(settings or {})
        with open(os.path.join(node.data, "postgresql.auto.conf"), "a") as conf:
            conf.write("".join(f"{k} = {v}\n" for k, v in own.items()))
        node.start()
        if sync:
            primary.psql("postgres", f"ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 ({name})'")
            primary.psql("postgres", "ALTER SYSTEM SET synchronous_commit = on")
            primary.psql("postgres", "SELECT pg_reload_conf()")
        want = "sync" if sync else "async"

        def streaming():
            state = primary.psql("postgres", f"SELECT state || ' ' || sync_state FROM pg_stat_replication WHERE application_name = '{name}'")
            return state == f"streaming {want}"
        wait_for(streaming, 60, f"standby {name} to stream ({want})", interval=0.2)
        return node

    def url(self, database):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def socket_url(self, database):
        """The same server over its Unix socket: another client address as far as PostgreSQL sees."""
        return f"host={self.socket} port={self.port} user=postgres dbname={database}"

    def psql(self, database, sql, timeout=60):
        out = subprocess.run(["psql", "-h", self.socket, "-p", str(self.port), "-U", "postgres", "-d", database, "-X", "-At",
                              "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise Failure(f"psql on {self.name} failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def psql_command(self, database):
        return ["psql", "-h", self.socket, "-p", str(self.port), "-U", "postgres", "-d", database, "-X", "-At", "-v", "ON_ERROR_STOP=1"]

    def promote(self):
        as_postgres([f"{PG_BIN}/pg_ctl", "promote", "-w", "-t", "60", "-D", self.data], check=True, capture_output=True)

    def in_recovery(self):
        return self.psql("postgres", "SELECT pg_is_in_recovery()") == "t"

    def running(self):
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def replay_caught_up(self, primary):
        """True when this standby has replayed everything the primary has written so far."""
        target = primary.psql("postgres", "SELECT pg_current_wal_lsn()")
        return self.psql("postgres", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t"

    def destroy(self):
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def multi_host_url(nodes, database, **extra):
    """One conninfo naming every node: libpq tries them in turn (target_session_attrs picks the primary)."""
    hosts = ",".join("127.0.0.1" for _ in nodes)
    ports = ",".join(str(n.port) for n in nodes)
    options = {"target_session_attrs": "read-write", "connect_timeout": "2"}
    options.update(extra)
    return f"host={hosts} port={ports} dbname={database} user=postgres " + " ".join(f"{k}={v}" for k, v in options.items())


class PgBouncer:
    """PgBouncer in transaction mode in front of one PostgreSQL node, on 127.0.0.1:<port>, run as the
    postgres user in the foreground (its pid is the Popen's), logging to a file. default_pool_size is
    small on purpose: client sessions are shuffled over few server connections."""

    def __init__(self, root, node, name="pgbouncer", pool_size=4, settings=None):
        self.node = node
        self.root = os.path.join(root, name)
        owned_by_postgres(self.root)
        self.port = free_port()
        self.config = os.path.join(self.root, "pgbouncer.ini")
        self.log_path = os.path.join(self.root, "pgbouncer.log")
        auth = os.path.join(self.root, "userlist.txt")
        with open(auth, "w") as f:
            f.write('"postgres" ""\n')
        values = {"listen_addr": "127.0.0.1", "listen_port": self.port, "unix_socket_dir": self.root,
                  "pool_mode": "transaction", "auth_type": "trust", "auth_file": auth, "default_pool_size": pool_size,
                  "max_client_conn": 500, "max_db_connections": 0, "ignore_startup_parameters": "extra_float_digits",
                  "logfile": self.log_path, "admin_users": "postgres", "server_login_retry": 1}
        values.update(settings or {})
        with open(self.config, "w") as f:
            f.write(f"[databases]\n* = host=127.0.0.1 port={node.port}\n\n[pgbouncer]\n")
            f.write("".join(f"{k} = {v}\n" for k, v in values.items()))
        if AS_ROOT:
            for path in (auth, self.config):
                shutil.chown(path, "postgres", "postgres")
        self.process = None
        self.start()

    def start(self):
        # Popen(user=...) rather than runuser: runuser forks, and the pid to stop must be pgbouncer's own.
        kwargs = dict(user="postgres", group="postgres", extra_groups=[]) if AS_ROOT else {}
        self.process = subprocess.Popen(["pgbouncer", self.config], stdout=subprocess.DEVNULL,
                                        stderr=open(os.path.join(self.root, "stderr.log"), "a"), start_new_session=True, **kwargs)

        def answers():
            if self.process.poll() is not None:
                raise Fatal(f"pgbouncer exited with {self.process.returncode}: {self.log_tail()}")
            return self.psql("postgres", "SELECT 1") == "1"
        wait_for(answers, 30, "pgbouncer to answer")

    def url(self, database):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def psql(self, database, sql, timeout=60):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-X", "-At",
                              "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise Failure(f"psql through pgbouncer failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # safe shutdown: closes at once
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines=20):
        text = ""
        for path in (self.log_path, os.path.join(self.root, "stderr.log")):
            try:
                text += "".join(open(path).readlines()[-lines:])
            except OSError:
                pass
        return text

    def destroy(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class TopologyService(Service):
    """`billing-events serve` with an explicit DATABASE_URL (--database-url) and explicit settings in its
    environment (SESSION_DATABASE_URL, READ_DATABASE_URL, ...); `node` is the primary its checks read."""

    def __init__(self, binary, database_url, root, role=None, env=None, args=(), name="serve", start=True):
        self.binary, self.cluster, self.database = binary, None, None
        self.port = free_port()
        self.log_path = os.path.join(root, f"{name}-{self.port}.log")
        self.args = ["serve", "--port", str(self.port), "--database-url", database_url] + (["--role", role] if role else []) + list(args)
        self.env = dict(os.environ, LOG_LEVEL="warning", **SECRETS)
        for setting in SERVICE_SETTINGS:
            self.env.pop(setting, None)
        self.env.update(env or {})
        self.process = None
        if start:
            self.start()

    def exit_status(self, timeout):
        """Waits for the process to exit by itself; None when it is still running after `timeout` s."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def log(self):
        try:
            return open(self.log_path).read()
        except OSError:
            return ""


def command(binary, database_url, *args, env=None, timeout=600):
    """A `billing-events` command against `database_url` (api-keys, migrate, projections ...)."""
    environment = dict(os.environ, LOG_LEVEL="warning", **SECRETS)
    for setting in SERVICE_SETTINGS:
        environment.pop(setting, None)
    environment.update(env or {})
    return subprocess.run([binary] + list(args) + ["--database-url", database_url], env=environment,
                          capture_output=True, text=True, timeout=timeout)


def create_key(binary, database_url, name):
    made = command(binary, database_url, "api-keys", "create", "--name", name)
    if made.returncode != 0:
        raise Failure(f"api-keys create failed: {made.stderr.strip()}")
    return made.stdout.strip().splitlines()[-1].strip()


def read_model_id(table, provider, provider_id, environment="live"):
    """The read model's stable row id, as the service derives it (UUID v8 from SHA-256 of the name)."""
    digest = bytearray(hashlib.sha256(f"billing-events/{table}/{provider}/{environment}/{provider_id}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


class Teardown:
    """What a scenario started, stopped in reverse order in its `finally` (services before pgbouncer
    before the PostgreSQL nodes), whatever failed."""

    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
        return item

    def close(self):
        errors = []
        for item in reversed(self.items):
            try:
                if isinstance(item, (Node, PgBouncer)):
                    item.destroy()
                elif hasattr(item, "stop"):
                    item.stop()
                elif callable(item):
                    item()
            except Exception as error:  # noqa: BLE001 - tear down the rest regardless
                errors.append(error)
        self.items = []
        return errors


_runs = [0]


def scenario_root(ctx, label):
    """A fresh directory under ctx.root for one run's nodes, logs and pgbouncer."""
    _runs[0] += 1
    path = os.path.join(ctx.root, f"topology-{_runs[0]}-{label}")
    os.makedirs(path)
    os.chmod(path, 0o755)
    return path


def wait_exit_or_ready(service, timeout=60):
    """'exited' (with the status in service.process.returncode) or 'ready'."""
    outcome = []

    def settled():
        if service.process.poll() is not None:
            outcome.append("exited")
            return True
        if service.get("/readyz", timeout=2)[0] == 200:
            outcome.append("ready")
            return True
        return False
    wait_for(settled, timeout, f"serve to start or exit (log: {service.log_path})")
    return outcome[0]
