"""Throughput of `toolforge generate` with a teacher fleet of four endpoints against one endpoint, same run.

Four loopback replicas (tests/reliability/fleet_server.py, in their own process so they do not share
the benchmark's GIL) each answer with a fixed latency and a fixed number of slots, like GPU replicas
with a batch limit. The same generation (same targets, seed and client concurrency) runs against one
replica, then against all four (`--teacher ... --teacher ...` as a fleet), then against four of which
one is killed mid-run. Prints records/s of each, checks the killed run still stored exactly N records,
and prints the ratio four/one last (target >= 3.5).

    .venv/bin/python benchmarks/bench_fleet.py [--per-scenario 120] [--latency 0.4] [--capacity 4]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVE = """
import sys
sys.path.insert(0, {root!r})
from tests.reliability.fleet_server import Replica
reps = [Replica(latency={latency}, capacity={capacity}).start() for _ in range(4)]
print(" ".join(r.url for r in reps), flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd and cmd[0] == "kill":
        reps[int(cmd[1])].kill()
    elif cmd and cmd[0] == "answered":
        print(" ".join(str(r.answered) for r in reps), flush=True)
"""

# the replicas' schema-driven answers pass these two most often, so both runs spend their requests alike
SCENARIOS = ["no_tool_needed", "single_tool"]
# one request per record where the generator offers it: the replicas, not the client's CPU, should be the limit
MODE = {"mode": "oneshot"} if "mode" in __import__("toolforge.generate.config", fromlist=["GenerateConfig"]
                                                   ).GenerateConfig.model_fields else {}


def run(db: Path, urls: list[str], per: int, concurrency: int, on_progress=None) -> tuple[float, int]:
    from toolforge.generate.config import GenerateConfig
    from toolforge.generate.runner import generate

    specs = [f"openai:m@{u}" for u in urls]
    cfg = GenerateConfig(targets=dict.fromkeys(SCENARIOS, per), teacher=specs[0],
                         teachers=[{"spec": s} for s in specs] if len(specs) > 1 else [],
                         teacher_options={"timeout": 10}, seed=1, concurrency=concurrency, **MODE)
    t0 = time.perf_counter()
    summary = generate(db, cfg, on_progress=on_progress)
    dt = time.perf_counter() - t0
    return dt, sum(summary.stored.values())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-scenario", type=int, default=120)
    ap.add_argument("--latency", type=float, default=0.4)
    ap.add_argument("--capacity", type=int, default=4)
    args = ap.parse_args()
    per, n = args.per_scenario, args.per_scenario * len(SCENARIOS)
    concurrency = 8 * args.capacity  # twice the fleet's slots: every replica always has work queued
    proc = subprocess.Popen([sys.executable, "-c", SERVE.format(root=str(ROOT), latency=args.latency,
                                                                 capacity=args.capacity)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        urls = proc.stdout.readline().split()
        with tempfile.TemporaryDirectory() as tmp:
            t_one, n_one = run(Path(tmp) / "one.duckdb", urls[:1], per, concurrency)
            t_four, n_four = run(Path(tmp) / "four.duckdb", urls, per, concurrency)

            killed = threading.Event()

            def on_progress(p) -> None:  # kill replica 0 a third of the way through
                if not killed.is_set() and p.accepted >= n // 3:
                    killed.set()
                    proc.stdin.write("kill 0\n")
                    proc.stdin.flush()

            t_kill, n_kill = run(Path(tmp) / "kill.duckdb", urls, per, concurrency, on_progress)
        proc.stdin.write("answered\n")
        proc.stdin.flush()
        answered = proc.stdout.readline().split()
    finally:
        proc.kill()
        proc.wait()
    assert n_one == n_four == n, (n_one, n_four, n)
    print(f"{n} records, replicas: latency {args.latency * 1000:.0f} ms, {args.capacity} slots each; "
          f"client concurrency {concurrency}")
    print(f"one endpoint:                 {n / t_one:8.1f} records/s ({t_one:.1f} s)")
    print(f"four endpoints (fleet):       {n / t_four:8.1f} records/s ({t_four:.1f} s)")
    print(f"four, one killed at n/3:      {n / t_kill:8.1f} records/s ({t_kill:.1f} s), stored {n_kill} "
          f"(exactly {n}: {'yes' if n_kill == n else 'NO'}); answers per replica {answered} (all runs)")
    ratio = t_one / t_four
    print(f"ratio four/one (throughput): {ratio:.2f}x (target >= 3.5: {'met' if ratio >= 3.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
