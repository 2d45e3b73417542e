"""Crash safety: `toolforge run` and `toolforge generate` killed with SIGKILL at seeded
random moments, each kill followed by a resume (the same command again).

After every kill the store must open, hold no duplicate ids and no partial rows (every
record row rebuilds to its own content id). After the last resume it must hold exactly
the target counts, and `toolforge validate` must find nothing that the run did not
already record. The kill moments are drawn from ``random.Random(SEED)``; the README's
"Guarantees" section quotes ``RUN_KILLS + GENERATE_KILLS``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import duckdb

from tests.conftest import ROOT
from toolforge.store import open_store

SEED = 20261121
RUN_KILLS = 12
GENERATE_KILLS = 8

RECIPE = """\
name: crash
generate:
  scenarios: {single_tool: 8, multi_tool_parallel: 4, multi_tool_sequential: 4, no_tool_needed: 4,
              error_recovery: 4, reasoning_heavy: 4, complex_multi_step: 4}
  catalogs: [smol-tools]
  teacher: "fake:"
  teacher_options: {latency: 0.15}
  concurrency: 2
  seed: 3
dedup:
  methods: [exact, near]
export:
  formats: [openai, sharegpt]
  test_fraction: 0.2
  seed: 3
"""
RUN_TARGETS = {"single_tool": 8, "multi_tool_parallel": 4, "multi_tool_sequential": 4, "no_tool_needed": 4,
               "error_recovery": 4, "reasoning_heavy": 4, "complex_multi_step": 4}


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp)}


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "toolforge", *args], cwd=cwd, env=_env(cwd),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _kill_at(proc: subprocess.Popen, delay: float) -> bool:
    """SIGKILL the process group after ``delay`` seconds; False if it had already finished."""
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def _finish(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "toolforge", *args], cwd=cwd, env=_env(cwd),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def _check_consistent(db: Path) -> dict:
    """The store opens (replaying its WAL), ids are unique, every row is whole."""
    with open_store(db) as store:
        con = store.con
        n, distinct = con.execute("SELECT count(*), count(DISTINCT id) FROM records").fetchone()
        assert n == distinct, "duplicate record ids"
        rebuilt = sum(1 for _ in store.iter_records(None))  # raises on a row that is not its content id
        from toolforge.store.select import Selection

        assert rebuilt == len(store.select_ids(Selection(include_duplicates=True, latest_revision=False)))
        counts = dict(con.execute("SELECT scenario, count(*) FROM records GROUP BY 1").fetchall())
        running = None
        if store.has_table("pipeline_stages"):
            row = con.execute("SELECT stage FROM pipeline_stages WHERE status = 'running'").fetchone()
            running = row[0] if row else None
        return {"counts": counts, "running": running}


def _invalid_ids(db: Path) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT record_id FROM validations WHERE NOT ok").fetchall()}
    finally:
        con.close()


# Kill moments for `toolforge run`: a stage (in pipeline order) and a seeded offset after the
# stage starts, short enough that the stage is still working when the kill lands.
STAGE_OFFSETS = {"generate": (0.05, 0.6), "validate": (0.0, 0.4), "dedup": (0.0, 0.15), "export": (0.0, 0.3)}


def _watch(proc: subprocess.Popen, stage: str) -> threading.Event:
    """An event set when the run logs that ``stage`` started (stderr is drained meanwhile)."""
    seen = threading.Event()

    def read():
        for raw in proc.stderr:
            if f"stage {stage}: running" in raw.decode(errors="replace"):
                seen.set()
    threading.Thread(target=read, daemon=True).start()
    return seen


def test_run_survives_sigkill_at_random_moments(tmp_path):
    rng = random.Random(SEED)
    plan = sorted((rng.choice(list(STAGE_OFFSETS)) for _ in range(RUN_KILLS - 4)), key=list(STAGE_OFFSETS).index)
    plan = sorted(plan + list(STAGE_OFFSETS), key=list(STAGE_OFFSETS).index)  # every stage at least once
    recipe = tmp_path / "crash.yaml"
    recipe.write_text(RECIPE)
    db = tmp_path / "crash.duckdb"
    args = ["run", str(recipe), "--db", str(db)]
    killed_in: list[str] = []
    for stage in plan:
        proc = _start(args, tmp_path)
        started = _watch(proc, stage)
        while not started.wait(0.05) and proc.poll() is None:
            pass
        if not started.is_set():  # the stage was already done: the run went past it
            proc.wait()
            killed_in.append("missed")
            continue
        lo, hi = STAGE_OFFSETS[stage]
        if _kill_at(proc, rng.uniform(lo, hi)):
            state = _check_consistent(db)
            killed_in.append(state["running"] or "between stages")
        else:
            killed_in.append("finished")
    final = json.loads(_finish([*args, "--json"], tmp_path).stdout)
    print("run kills landed in:", Counter(killed_in))
    landed = [k for k in killed_in if k in STAGE_OFFSETS]
    assert len(landed) >= RUN_KILLS - 2, killed_in
    assert set(landed) == set(STAGE_OFFSETS), killed_in

    state = _check_consistent(db)
    assert state["counts"] == RUN_TARGETS
    assert state["running"] is None
    assert final["funnel"]["generated"] == sum(RUN_TARGETS.values())
    assert all(s["status"] in ("ran", "skipped", "disabled") for s in final["stages"])
    # Exports are whole files: every line parses, and they hold what the funnel says.
    for fmt in ("openai", "sharegpt"):
        folder = tmp_path / "crash-export" / fmt
        lines = [json.loads(line) for p in folder.glob("*.jsonl") for line in p.read_text().splitlines()]
        assert len(lines) == final["funnel"]["exported"]
        assert not list(folder.glob("*.tmp"))
    # A fresh validation finds nothing the run did not already record.
    before = _invalid_ids(db)
    proc = subprocess.run([sys.executable, "-m", "toolforge", "validate", "--db", str(db), "--execute", "--json"],
                          cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert _invalid_ids(db) == before


def test_generate_survives_sigkill_at_random_moments(tmp_path):
    rng = random.Random(SEED + 1)
    db = tmp_path / "gen.duckdb"
    # A slow simulated teacher (about 12 s of work for the 42 records at concurrency 3), so that the
    # seeded kill moments (0.3-2.5 s after start) land while the run is working, not after it ended,
    # however fast the generator itself becomes.
    args = ["generate", "--db", str(db), "--teacher", "fake:", "--teacher-option", "latency=0.9", "--concurrency", "3",
            "--n", "6", "--seed", "5", "--run-name", "crashy"]
    kills = 0
    for _ in range(GENERATE_KILLS):
        proc = _start(args, tmp_path)
        if _kill_at(proc, rng.uniform(0.3, 2.5)):
            kills += 1
            if db.exists():
                _check_consistent(db)
        else:
            assert proc.returncode == 0, proc.stderr.read().decode()
    _finish(args, tmp_path)
    assert kills >= GENERATE_KILLS // 2
    state = _check_consistent(db)
    assert state["counts"] == {s: 6 for s in RUN_TARGETS}
    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT count(*) FROM runs WHERE kind = 'generate'").fetchone()[0]
    finally:
        con.close()
    assert runs == 1, "each resume must continue the named run, not start a new one"
