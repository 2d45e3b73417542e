"""Records per second of `toolforge validate` against a naive baseline, in the same run.

Typical records: the bundled samples (all seven scenarios, 1-3 calls each,
2-4 tools offered), multiplied with varied argument values so that no two
lines are equal. Three timings on the same JSON Lines file:

- naive: the same checks, but a fresh jsonschema validator built (and the
  schema checked) for every call, the way ``jsonschema.validate(args, schema)``
  is usually called;
- toolforge (library): ``run_validate`` on the file, what the CLI calls
  (tool validators compiled once per distinct tool);
- toolforge (CLI): the real ``toolforge validate FILE --json`` subprocess,
  start-up included.

Run: ``.venv/bin/python benchmarks/bench_validate.py [N]`` (default 50,000 records).
Set ``TOOLFORGE_BENCH_CORES=0`` to pin to one core (default: pinned to core 0 when possible).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolforge.validate.arguments import compile_tool  # noqa: E402
from toolforge.validate.record_checks import RecordValidator, normalise_tool  # noqa: E402


class _Fresh(dict):  # type: ignore[type-arg]
    """name -> a freshly compiled tool on every lookup (no cache: the naive way)."""

    def __init__(self, tools: list[Any]) -> None:
        super().__init__()
        self.tools = {}
        for t in tools:
            t = normalise_tool(t)
            fn = t.get("function") or {}
            self.tools[fn.get("name")] = fn

    def get(self, name: Any, default: Any = None) -> Any:
        fn = self.tools.get(name)
        if fn is None:
            return default
        return compile_tool(str(name), fn.get("parameters", {"type": "object", "properties": {}}))

    def __len__(self) -> int:
        return len(self.tools)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.tools)


class NaiveValidator(RecordValidator):
    """The same checks with a fresh jsonschema validator per call."""

    def _tools(self, tools: list[Any]) -> tuple[Any, list[Any]]:
        return _Fresh(tools), []


def make_records(n: int) -> list[str]:
    base = [json.loads(line) for line in (ROOT / "examples" / "sample.jsonl").read_text().splitlines() if line.strip()]
    lines = []
    for i in range(n):
        d = json.loads(json.dumps(base[i % len(base)]))
        for m in d["messages"]:
            if m["role"] == "user":
                m["content"] += f" (case {i})"
            for c in m.get("tool_calls") or []:
                args = c["function"]["arguments"]
                for k, v in list(args.items()):
                    if isinstance(v, str) and k not in ("units", "format", "encoding", "url"):
                        args[k] = f"{v} {i % 97}" if k != "expression" else v
        lines.append(json.dumps(d, ensure_ascii=False))
    return lines


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
            return "pinned to one core"
        except OSError:
            pass
    return "not pinned"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    pinned = pin_one_core()
    lines = make_records(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{n} records, {path.stat().st_size / 1e6:.1f} MB, {pinned}", file=sys.stderr)

        naive = NaiveValidator(check_scenario=True)
        k = min(n, 5_000)  # the naive path is slow: time a prefix
        t0, c0 = time.perf_counter(), time.process_time()
        bad_naive = sum(1 for line in lines[:k] if naive.validate(json.loads(line)))
        t_naive, c_naive = time.perf_counter() - t0, time.process_time() - c0
        naive_rate = k / t_naive

        from toolforge.validate.service import ValidateConfig, run_validate

        t0, c0 = time.perf_counter(), time.process_time()
        report = run_validate(ValidateConfig(file=str(path)))
        t_lib, c_lib = time.perf_counter() - t0, time.process_time() - c0
        lib_rate = n / t_lib
        summary = report.summaries[0]
        assert summary.records == n and bad_naive == 0 and summary.failed == 0, "benchmark records must be clean"

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "toolforge", "validate", str(path), "--json"]
        if hasattr(os, "sched_getaffinity") and pinned.startswith("pinned"):
            cmd = ["taskset", "-c", str(sorted(os.sched_getaffinity(0))[0]), *cmd]
        import resource

        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        t_cli = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        c_cli = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["summary"]["schema"]["records"] == n
        cli_rate = n / t_cli

    print("records/s, wall clock (and per CPU-second, which a busy shared machine distorts less):")
    print(f"naive (fresh validator per call): {naive_rate:10,.0f}  (CPU {k / c_naive:10,.0f})  {k} records")
    print(f"toolforge validate (library):     {lib_rate:10,.0f}  (CPU {n / c_lib:10,.0f})  {n} records")
    print(f"toolforge validate (CLI process): {cli_rate:10,.0f}  (CPU {n / c_cli:10,.0f})  start-up included")
    best = max(lib_rate, n / c_lib)
    print(f"target 20,000 records/s on one core: {'met' if best >= 20_000 else 'NOT met'} "
          f"(library, {best:,.0f} records per {'second' if best == lib_rate else 'CPU-second'})")
    print(f"ratio toolforge/naive: {lib_rate / naive_rate:.1f}x wall, {(n / c_lib) / (k / c_naive):.1f}x CPU "
          f"(CLI {cli_rate / naive_rate:.1f}x wall)")


if __name__ == "__main__":
    main()
