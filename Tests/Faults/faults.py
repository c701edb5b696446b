#!/usr/bin/env python3
"""The reliability suite: tries hard to break each reliability rule (every acknowledged event in the log
exactly once, no 5xx, projections equal to a rebuild; docs/testing.md) and prints one table row per run
(scenario, load, faults injected, events acknowledged, found, lost, duplicated).

Usage: faults.py BINARY [--fast] [--repeats N] [--rate R] [--only SUBSTRING ...] [--soak-minutes M]
--fast runs what CI runs (every scenario but the soak, shorter; the topology scenarios once each); the full
run adds the soak.
Exit status 1 when any run failed; the table says which and why.
"""
import argparse, os, shutil, sys, tempfile, time, traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import Cluster  # noqa: E402
import scenarios_api, scenarios_concurrency, scenarios_faults, scenarios_hostile, scenarios_topology, soak  # noqa: E402


class Context:
    def __init__(self, binary, root, rate, fast):
        self.binary, self.root, self.rate, self.fast = binary, root, rate, fast
        self.cluster = Cluster(os.path.join(root, "postgres"))
        self.databases = 0

    def new_database(self):
        self.databases += 1
        return self.cluster.create_database(f"faults_{self.databases}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=int, default=None, help="deliveries per second (default: 1000, --fast 400)")
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--soak-minutes", type=float, default=10)
    options = parser.parse_args()
    rate = options.rate or (400 if options.fast else 1000)

    scenarios = (scenarios_faults.SCENARIOS + scenarios_concurrency.SCENARIOS + scenarios_hostile.SCENARIOS
                 + scenarios_api.SCENARIOS + scenarios_topology.SCENARIOS)
    # Scenarios that build their own clusters (slow to set up) run once under --fast, --repeats times otherwise.
    once_when_fast = {name for name, _, _ in scenarios_topology.SCENARIOS}
    if not options.fast:
        scenarios = scenarios + soak.scenarios(options.soak_minutes)
    if options.only:
        scenarios = [s for s in scenarios if any(o in s[0] for o in options.only)]

    root = tempfile.mkdtemp(prefix="billing-events-faults-")
    os.chmod(root, 0o755)
    ctx = Context(os.path.abspath(options.binary), root, rate, options.fast)
    rows, failed = [], 0
    try:
        for name, run, repeated in scenarios:
            repeats = options.repeats if repeated and not (options.fast and name in once_when_fast) else 1
            for repeat in range(repeats):
                began = time.monotonic()
                print(f"faults: {name} #{repeat + 1} ...", flush=True)
                try:
                    row = run(ctx)
                    row["result"] = "ok"
                except Exception as error:  # noqa: BLE001 - every failure becomes a row
                    failed += 1
                    traceback.print_exc()
                    row = dict(load="", faults="", acked="", found="", lost="", duplicated="", notes=" ".join(str(error).split())[:400], result="FAILED")
                row["scenario"] = f"{name} #{repeat + 1}"
                row["seconds"] = time.monotonic() - began
                print(f"faults:   {row['result']} in {row['seconds']:.1f} s: {row['notes']}", flush=True)
                rows.append(row)
    finally:
        ctx.cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)
    print()
    print("| scenario | load | faults injected | acknowledged | found | lost | duplicated | result | s | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scenario']} | {r['load']} | {r['faults']} | {r['acked']} | {r['found']} | {r['lost']} | {r['duplicated']} "
              f"| {r['result']} | {r['seconds']:.1f} | {r['notes']} |")
    print(f"\nfaults: {len(rows) - failed} of {len(rows)} runs held every guarantee")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
