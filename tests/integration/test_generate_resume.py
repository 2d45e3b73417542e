"""A `toolforge generate` subprocess killed with SIGKILL mid-run, then resumed: exactly N, no duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

N = 80


def counts(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        n_rec = con.execute("SELECT count(*) FROM records").fetchone()[0]
        n_ids = con.execute("SELECT count(DISTINCT id) FROM records").fetchone()[0]
        accepted = con.execute("SELECT count(*) FROM generation_attempts WHERE outcome = 'accepted'").fetchone()[0]
        orphans = con.execute("SELECT count(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM generation_attempts a "
                              "WHERE a.record_id = r.id AND a.outcome = 'accepted')").fetchone()[0]
        runs = con.execute("SELECT id, status FROM runs").fetchall()
        bad_rows = con.execute("SELECT count(*) FROM records WHERE json_array_length(messages) < 3 "
                               "OR scenario IS NULL OR run_id IS NULL").fetchone()[0]
        return n_rec, n_ids, accepted, orphans, runs, bad_rows
    finally:
        con.close()


def test_sigkill_then_resume_ends_with_exactly_n(run_cli, tmp_db):
    args = ["generate", "-s", "single_tool", "-s", "multi_tool_parallel", "--n", str(N // 2), "--teacher", "fake:",
            "--teacher-option", "latency=0.1", "--concurrency", "2", "--seed", "9", "--run-name", "nightly", "--db", str(tmp_db)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "toolforge", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    time.sleep(0.5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not tmp_db.exists():
        time.sleep(0.1)
    time.sleep(3.0)  # the store is written every second
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    n_rec, n_ids, accepted, orphans, runs, bad = counts(tmp_db)
    assert 0 < n_rec < N, n_rec  # killed mid-run, with something stored
    assert n_rec == n_ids == accepted and orphans == 0 and bad == 0
    assert len(runs) == 1 and runs[0][1] == "running"  # a killed run is left 'running'

    run_id = runs[0][0]
    done = run_cli("generate", "--resume", run_id, "--db", tmp_db, "--json", check=True)
    summary = json.loads(done.stdout)
    assert summary["run_id"] == run_id and summary["status"] == "done"
    assert summary["stored"] == {"single_tool": N // 2, "multi_tool_parallel": N // 2}
    n_rec, n_ids, accepted, orphans, runs, bad = counts(tmp_db)
    assert n_rec == n_ids == accepted == N and orphans == 0 and bad == 0

    again = run_cli(*[a for a in args if a != "latency=0.1" and a != "--teacher-option"], "--json", check=True)
    assert json.loads(again.stdout)["new"] == 0  # same --run-name: the run is complete, nothing added
    assert counts(tmp_db)[0] == N


def test_ctrl_c_stores_what_was_accepted_and_the_same_command_continues(run_cli, tmp_db):
    n = 40
    args = ["generate", "-s", "no_tool_needed", "--n", str(n), "--teacher", "fake:", "--teacher-option", "latency=0.1",
            "--concurrency", "2", "--seed", "5", "--run-name", "ctrl-c", "--db", str(tmp_db)]
    proc = subprocess.Popen([sys.executable, "-m", "toolforge", *args], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not tmp_db.exists():
        time.sleep(0.1)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "--resume generate-" in err
    n_rec, n_ids, accepted, orphans, runs, bad = counts(tmp_db)
    assert 0 < n_rec < n and n_rec == accepted and orphans == 0 and runs[0][1] == "interrupted"
    done = run_cli(*args, "--json", check=True)
    assert json.loads(done.stdout)["stored"] == {"no_tool_needed": n}
    assert counts(tmp_db)[:3] == (n, n, n)
