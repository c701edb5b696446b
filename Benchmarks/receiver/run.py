#!/usr/bin/env python3
"""Receiver benchmark: signed deliveries over HTTP (wrk, pre-signed unique requests) against the
same event row inserted by pgbench, one per transaction, with the same number of clients, on one
throwaway PostgreSQL with durable settings (fsync and synchronous_commit on).

Usage: run.py BINARY [seconds] [clients ...]   (defaults: 10 s, 16 and 64 clients)
BENCH_SYNCHRONOUS_COMMIT=off measures the CPU-bound case (no WAL flush wait) instead.
Every client count runs twice in the same run: on the primary alone, then with a synchronous
standby (pg_basebackup of the same cluster, synchronous_standby_names naming it), so each commit
also waits for the standby's flush (BENCH_SYNC_STANDBY=0 skips the second pass).
"""
import glob, json, os, re, shutil, signal, subprocess, sys, tempfile, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
binary = sys.argv[1]
seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
clients = [int(c) for c in sys.argv[3:]] or [16, 64]
port = 18400 + os.getpid() % 500

scratch = tempfile.mkdtemp(prefix="billing-events-bench-")
os.chmod(scratch, 0o755)
env = dict(os.environ,
           BILLING_EVENTS_DATA_DIR=scratch, PORT=str(port), LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "warning"), DATABASE_POOL_SIZE="8",
           FLEXPRICE_WEBHOOK_SECRETS="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
           MINTFAX_WEBHOOK_SECRETS="whsec_dGVzdCBzZWNyZXQgZm9yIG1pbnRmYXg=",
           MINTCASH_WEBHOOK_SECRETS="mintcash-merchant-secret")
env.pop("DATABASE_URL", None)
socket_dir = os.path.join(scratch, "postgres")

PG_BIN = os.path.dirname((sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or ["pg_ctl"])[-1])
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
standby_dir = os.path.join(scratch, "standby")

def start_sync_standby():
    """A streaming standby of the bench cluster on its own socket, then named synchronous on the primary."""
    os.makedirs(standby_dir, mode=0o700)
    if AS_POSTGRES:
        shutil.chown(standby_dir, "postgres", "postgres")
    backup = subprocess.run(AS_POSTGRES + [f"{PG_BIN}/pg_basebackup", "-h", socket_dir, "-U", "postgres", "-D", standby_dir, "-R", "-X", "stream", "--no-sync"],
                            capture_output=True, text=True)
    if backup.returncode != 0:
        sys.exit(f"bench: pg_basebackup failed: {backup.stderr.strip()}")
    with open(os.path.join(standby_dir, "postgresql.auto.conf"), "a") as conf:
        conf.write(f"unix_socket_directories = '{standby_dir}'\nport = 5499\nsynchronous_standby_names = ''\n"
                   f"primary_conninfo = 'host={socket_dir} user=postgres application_name=bench_standby'\n")
    subprocess.run(AS_POSTGRES + [f"{PG_BIN}/pg_ctl", "start", "-w", "-D", standby_dir, "-l", os.path.join(standby_dir, "standby.log")],
                   check=True, capture_output=True)
    psql("ALTER SYSTEM SET synchronous_standby_names = 'bench_standby'")
    psql("SELECT pg_reload_conf()")
    for _ in range(300):
        if psql("SELECT count(*) FROM pg_stat_replication WHERE application_name = 'bench_standby' AND sync_state = 'sync'") == "1":
            return
        time.sleep(0.1)
    sys.exit("bench: the standby did not become synchronous; see " + standby_dir + "/standby.log")

def psql(sql):
    out = subprocess.run(["psql", "-h", socket_dir, "-U", "postgres", "-d", "billing_events", "-At", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")

requests_file = os.path.join(scratch, "requests.tsv")

def make_requests():
    """Fresh pre-signed unique deliveries for one pass (Svix timestamps older than 5 minutes are refused)."""
    needed = seconds * 25_000 * len(clients)
    print(f"bench: generating {needed} pre-signed deliveries ...", flush=True)
    subprocess.run([sys.executable, os.path.join(HERE, "make_requests.py"), str(needed), requests_file], env=env, check=True)

make_requests()

server = subprocess.Popen([binary, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(scratch, "serve.log"), "w"))
try:
    for _ in range(600):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).status == 200:
                break
        except Exception:
            time.sleep(0.1)
    else:
        sys.exit("bench: the service did not become ready; see " + scratch + "/serve.log")
    if os.environ.get("BENCH_SYNCHRONOUS_COMMIT"):
        # For a CPU-bound comparison: ALTER SYSTEM applies to the service's open sessions on reload.
        psql(f"ALTER SYSTEM SET synchronous_commit = '{os.environ['BENCH_SYNCHRONOUS_COMMIT']}'")
        psql("SELECT pg_reload_conf()")
    settings = psql("SELECT string_agg(name || '=' || setting, ' ') FROM pg_settings WHERE name IN ('fsync','synchronous_commit','wal_sync_method')")
    print(f"bench: PostgreSQL {psql('SHOW server_version')} ({settings}); {os.cpu_count()} cores; {seconds} s per run", flush=True)

    rows = []
    offset = 0
    passes = ["none", "sync"] if os.environ.get("BENCH_SYNC_STANDBY", "1") != "0" else ["none"]
    for standby, count in [(p, c) for p in passes for c in clients]:
        if standby == "sync" and not os.path.exists(standby_dir):
            start_sync_standby()
            make_requests()
            offset = 0
            print("bench: synchronous standby streaming; second pass", flush=True)
        # Baseline: pgbench, one INSERT of the same row per transaction.
        logdir = tempfile.mkdtemp(dir=scratch)
        out = subprocess.run(["pgbench", "-h", socket_dir, "-U", "postgres", "-n", "-c", str(count), "-j", "2", "-T", str(seconds),
                              "-f", os.path.join(HERE, "insert.sql"), "-l", "--log-prefix", os.path.join(logdir, "tx"), "billing_events"],
                             capture_output=True, text=True, check=True).stdout
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        latencies = []
        for name in os.listdir(logdir):
            for line in open(os.path.join(logdir, name)):
                latencies.append(int(line.split()[2]) / 1000.0)
        base = (tps, percentile(latencies, 0.5), percentile(latencies, 0.99))

        # The receiver over HTTP.
        before = int(psql("SELECT count(*) FROM billing.events"))
        server_cpu = cpu_seconds(server.pid)
        wrk = subprocess.run(["wrk", "-t1", "-c", str(count), "-d", f"{seconds}s", "--timeout", "10s", "--latency",
                              "-s", os.path.join(HERE, "requests.lua"), f"http://127.0.0.1:{port}/"],
                             env=dict(env, BENCH_REQUESTS=requests_file, BENCH_THREADS="1", BENCH_OFFSET=str(offset)),
                             capture_output=True, text=True)
        server_cpu = cpu_seconds(server.pid) - server_cpu
        text = wrk.stdout
        def latency(label):
            match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
            value, unit = float(match.group(1)), match.group(2)
            return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
        sent = int(re.search(r"(\d+) requests in", text).group(1))
        non2xx = int(re.search(r"Non-2xx or 3xx responses: (\d+)", text).group(1)) if "Non-2xx" in text else 0
        errors = re.search(r"Socket errors: (.*)", text)
        stored = int(psql("SELECT count(*) FROM billing.events")) - before
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
        offset += sent
        rows.append((standby, count, base, (rate, latency("50%"), latency("99%")), sent, stored, non2xx, errors.group(1) if errors else "none", server_cpu))

    rss = re.search(r"VmHWM:\s+(\d+) kB", open(f"/proc/{server.pid}/status").read()).group(1)
    print()
    print("| standby | clients | pgbench rows/s | pgbench p50 / p99 ms | receiver events/s | receiver p50 / p99 ms | ratio | sent | stored | non-2xx | server CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for standby, count, base, recv, sent, stored, non2xx, errors, cpu in rows:
        print(f"| {standby} | {count} | {base[0]:,.0f} | {base[1]:.2f} / {base[2]:.2f} | {recv[0]:,.0f} | {recv[1]:.2f} / {recv[2]:.2f} | "
              f"{recv[0] / base[0]:.2f}x | {sent} | {stored} | {non2xx} | {cpu:.1f} |")
        if errors != "none":
            print(f"  socket errors at {count} clients: {errors}")
    print(f"\nserver peak RSS: {int(rss) / 1024:.0f} MiB; non-2xx must be 0 and stored at least sent (unique deliveries; wrk does not count those still in flight when it stops)")
finally:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    for data in (socket_dir, standby_dir):
        if os.path.exists(data):
            subprocess.run(AS_POSTGRES + [f"{PG_BIN}/pg_ctl", "stop", "-D", data, "-m", "fast"], capture_output=True)
    if os.environ.get("BENCH_KEEP") is None:
        shutil.rmtree(scratch, ignore_errors=True)
