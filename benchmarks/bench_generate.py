"""Throughput of `toolforge generate` against a bare `openai.AsyncOpenAI` loop, same run, same server.

Both talk to a fast loopback OpenAI-compatible stub (tests/fixtures/llama.py, its own process) that
answers every request with a canned valid plan for the request's schema. The baseline sends the same
requests (same prompts, schemas, seeds, concurrency) and does nothing with the answers; toolforge
parses each answer into a record, validates it, checks near-duplicates and writes it to DuckDB.

    python benchmarks/bench_generate.py [--n 3000] [--concurrency 64] [--rounds 2]

Prints records/s of each and the ratio toolforge / baseline last (target: >= 0.9 at concurrency 64,
and >= 1000 records/s on a 2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.llama import start_stub, stop_process  # noqa: E402
from toolforge.catalog import load_catalogs  # noqa: E402
from toolforge.generate.plan import make_job  # noqa: E402
from toolforge.generate.prompts import examples, render_messages  # noqa: E402
from toolforge.generate.schema import plan_schema  # noqa: E402

SCENARIOS = ["single_tool", "multi_tool_parallel", "multi_tool_sequential", "no_tool_needed", "error_recovery",
             "reasoning_heavy", "complex_multi_step"]


def same_requests(n: int, seed: int) -> list[dict]:
    """The requests toolforge sends for these targets (its jobs in its round-robin order)."""
    tools = load_catalogs(["smol-tools"])
    per = {s: n // len(SCENARIOS) + (1 if i < n % len(SCENARIOS) else 0) for i, s in enumerate(SCENARIOS)}
    out, idx = [], dict.fromkeys(SCENARIOS, 0)
    while len(out) < n:
        for s in SCENARIOS:
            if idx[s] < per[s]:
                job = make_job(s, idx[s], seed, tools, len(examples(s)))
                idx[s] += 1
                schema = plan_schema(s, job.callable, calls_per_turn=job.calls_per_turn, recovery=job.recovery)
                out.append({"messages": render_messages(job), "seed": job.seed, "schema": schema})
    return out, per


async def baseline(base: str, reqs: list[dict], concurrency: int) -> float:
    import openai

    client = openai.AsyncOpenAI(base_url=base, api_key="unused", max_retries=0)  # its default connection pool
    queue: asyncio.Queue = asyncio.Queue()
    for r in reqs:
        queue.put_nowait(r)

    async def worker():
        while not queue.empty():
            r = queue.get_nowait()
            await client.chat.completions.create(
                model="stub", messages=r["messages"], temperature=0.7, max_tokens=1024, seed=r["seed"],
                response_format={"type": "json_schema",
                                 "json_schema": {"name": "conversation", "schema": r["schema"], "strict": False}})

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    dt = time.perf_counter() - t0
    await client.close()
    return len(reqs) / dt


def toolforge_run(base: str, per: dict, concurrency: int, seed: int) -> tuple[float, dict]:
    """`toolforge generate` as a user runs it (a subprocess); its own records/s (store open to last write)."""
    import os

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        recipe = Path(tmp) / "bench.yaml"  # exact per-scenario counts, as in same_requests()
        recipe.write_text("name: bench\ngenerate:\n  scenarios: " + json.dumps(per) + "\n")
        args = [sys.executable, "-m", "toolforge", "generate", "--recipe", str(recipe),
                "--teacher", f"openai:stub@{base}", "--concurrency", str(concurrency), "--seed", str(seed),
                "--max-retries", "0", "--max-attempts", "1", "--db", str(db), "--json"]
        proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        if proc.returncode != 0:
            raise SystemExit(f"toolforge generate failed:\n{proc.stderr}")
        summary = json.loads(proc.stdout)
    return summary["records_per_s"], summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    reqs, per = same_requests(a.n, a.seed)
    proc, base = start_stub()
    try:
        asyncio.run(baseline(base, reqs[:200], a.concurrency))  # warm the stub's answer pools
        best_b = best_t = 0.0
        for r in range(a.rounds):
            b = asyncio.run(baseline(base, reqs, a.concurrency))
            t, summary = toolforge_run(base, per, a.concurrency, a.seed)
            assert sum(summary["stored"].values()) == a.n, summary
            print(f"round {r + 1}: baseline openai.AsyncOpenAI {b:,.0f} req/s   toolforge generate {t:,.0f} records/s "
                  f"(stored {sum(summary['stored'].values())}, failures {summary['failures'] or 'none'})")
            best_b, best_t = max(best_b, b), max(best_t, t)
    finally:
        stop_process(proc)
    print(f"n={a.n} concurrency={a.concurrency}: baseline {best_b:,.0f} req/s, toolforge {best_t:,.0f} records/s")
    print(f"ratio toolforge/baseline: {best_t / best_b:.2f}")


if __name__ == "__main__":
    main()
