"""Records per second of `toolforge validate` beside the floor (reading and decoding the same records), same run.

Typical records: the bundled samples (all seven scenarios, 1-3 calls each,
2-4 tools offered), multiplied with varied argument values so that no two
lines are equal. Timings on the same records:

- floor: read the JSON Lines file and decode every line with the same JSON guard
  ``toolforge validate`` uses (``toolforge.io.jsonl.read_jsonl``), nothing else;
- naive: the same checks, but a fresh jsonschema validator built (and the
  schema checked) for every call, the way ``jsonschema.validate(args, schema)``
  is usually called;
- toolforge (library): ``run_validate`` on the file, what the CLI calls
  (tool validators compiled once per distinct tool); and the same with
  ``--workers 0`` (one worker process per core, unpinned for that row: the report
  must be equal; its CPU column counts the parent process only);
- toolforge (CLI): the real ``toolforge validate FILE --json`` subprocess,
  start-up included;
- toolforge (store): ``validate_store`` over a DuckDB store holding the same records
  (read, judge, write the results);
- the library path again with ``--no-grounding`` (structure, arguments, scenario and
  provenance), and form only (structure, arguments, scenario: grounding and provenance off),
  to show which checks cost what ("where the time goes", per record of CPU time).

The ratios printed last are toolforge (library, every default check) / floor and form only /
floor. Target: >= 20,000 records/s wall for one process, every default check on.

Run: ``.venv/bin/python benchmarks/bench_validate.py [N]`` (default 20,000 records).
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

    def _tools(self, tools: list[Any]) -> Any:
        cached = super()._tools(tools)  # whatever else the validator keeps per tool set, as it is
        return (_Fresh(tools), *cached[1:])


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


def timed(fn: Any) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    pinned = pin_one_core()
    lines = make_records(n)
    rows: list[tuple[str, int, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        load = "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{n} records, {path.stat().st_size / 1e6:.1f} MB, {pinned}; {os.cpu_count()} CPUs; {load} (start)")

        from toolforge.io.jsonl import read_jsonl

        _, t, c = timed(lambda: sum(1 for line in read_jsonl(str(path)) if line.value is not None))
        rows.append(("floor (read + decode)", n, t, c))
        floor = n / t

        naive = NaiveValidator(check_scenario=True)
        k = min(n, 2_000)  # the naive path is slow: time a prefix
        bad_naive, t, c = timed(lambda: sum(1 for line in lines[:k] if naive.validate(json.loads(line))))
        rows.append(("naive (fresh validator per call)", k, t, c))

        from toolforge.validate.service import ValidateConfig, run_validate

        report, t_lib, c = timed(lambda: run_validate(ValidateConfig(file=str(path))))
        rows.append(("toolforge validate (library)", n, t_lib, c))
        lib_rate = n / t_lib
        summary = report.summaries[0]
        assert summary.records == n

        t_w = None
        all_cores = sorted(os.sched_getaffinity(0) | set(range(os.cpu_count() or 1))) if hasattr(os, "sched_getaffinity") else []
        if len(all_cores) > 1:  # --workers 0 (one per core): the worker processes inherit this process's cores
            pinned_to = os.sched_getaffinity(0)
            os.sched_setaffinity(0, set(all_cores))
            wreport, t_w, c = timed(lambda: run_validate(ValidateConfig(file=str(path), workers=0)))
            os.sched_setaffinity(0, pinned_to)
            assert wreport.to_dict() == report.to_dict()  # the same report, record for record
            rows.append((f"  same, --workers 0 ({len(all_cores)} processes, every core)", n, t_w, c))

        _, t, c_nog = timed(lambda: run_validate(ValidateConfig(file=str(path), check_grounding=False)))
        rows.append(("  same, --no-grounding (provenance still on)", n, t, c_nog))

        form = RecordValidator()
        _, t_form, c_form = timed(lambda: [form.validate(line.value, check_grounding=False, check_provenance=False)
                                           for line in read_jsonl(str(path))])
        rows.append(("  form only (structure, arguments, scenario)", n, t_form, c_form))
        c_floor, c_lib = rows[0][3], rows[2][3]  # (the workers row's CPU time is the parent's only)

        from toolforge.record import Record
        from toolforge.store import open_store
        from toolforge.validate.run import validate_store

        db = Path(tmp) / "bench.duckdb"
        with open_store(db) as store:
            store.upsert_records([Record.model_validate(json.loads(x)) for x in lines], source="bench")
            st, t, c = timed(lambda: validate_store(store))
            rows.append(("toolforge validate (store, results written)", n, t, c))
            assert st.records == n and st.failed == summary.failed, (st.to_dict(), summary.to_dict())

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "toolforge", "validate", str(path), "--json"]
        if hasattr(os, "sched_getaffinity") and pinned.startswith("pinned"):
            cmd = ["taskset", "-c", str(sorted(os.sched_getaffinity(0))[0]), *cmd]
        import resource

        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        t = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        c = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        assert proc.returncode in (0, 1), proc.stderr
        assert json.loads(proc.stdout)["summary"]["schema"]["records"] == n
        rows.append(("toolforge validate (CLI process, start-up incl.)", n, t, c))

    print(f"records/s, wall clock (and per CPU-second, which a busy shared machine distorts less); "
          f"{summary.failed} of {n} records fail ({dict(summary.codes.most_common(3))})")
    for label, m, t, c in rows:
        print(f"{label:50s} {m / t:10,.0f}  (CPU {m / c:10,.0f})  {m} records")
    us = 1e6 / n
    print(f"where the time goes, CPU us per record: read+decode {c_floor * us:.1f}, "
          f"form checks {(c_form - c_floor) * us:.1f}, provenance {(c_nog - c_form) * us:.1f}, "
          f"grounding {(c_lib - c_nog) * us:.1f}; total {c_lib * us:.1f}")
    print("load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + " (end)")
    print(f"target 20,000 records/s wall on one core, every default check on: "
          f"{'met' if lib_rate >= 20_000 else 'NOT met'} (library {lib_rate:,.0f}/s, floor {floor:,.0f}/s)")
    if t_w is not None:
        print(f"--workers 0 on {len(all_cores)} cores, every default check on: {n / t_w:,.0f} records/s wall, "
              f"{t_lib / t_w:.2f}x one process")
    print(f"ratio form only / floor: {n / t_form / floor:.2f} wall ({n / t_form:,.0f}/s)")
    print(f"ratio toolforge validate (library, default checks) / floor: {lib_rate / floor:.2f} wall")


if __name__ == "__main__":
    main()
