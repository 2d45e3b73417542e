"""Ctrl-C: a real SIGINT sent to the CLI in a subprocess while a long command runs.

Every interrupted command prints ``error: interrupted`` (and a hint where there is
something to resume), exits 130, and prints no traceback, whatever the library was
doing when the signal came (DuckDB turns it into ``RuntimeError: Query interrupted``;
an asyncio teacher loop into a cancelled task). Dedup writes its marks at the end, so
an interrupted dedup leaves the store exactly as it was.

The signal is sent once the command says it is working: with stderr not a terminal
and ``TOOLFORGE_PROGRESS_INTERVAL=0.2`` a progress line comes every 0.2 s, so the
first line proves the store is open and the work has begun (no sleep-and-hope timing).
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT
from tests.helpers import store_digest

SAMPLE = [json.loads(line) for line in (EXAMPLES / "sample.jsonl").read_text().splitlines() if line.strip()]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TOOLFORGE_PROGRESS_INTERVAL": "0.2"}


def _interrupt_when_working(args: list[str], cwd: Path, marker: str, timeout: float = 120) -> tuple[int, str]:
    """Start ``toolforge ARGS``, wait for a stderr line matching ``marker`` (a regex), send SIGINT; (rc, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "toolforge", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if re.match(marker, line):
            proc.send_signal(signal.SIGINT)
            break
        assert time.monotonic() < deadline, "no progress line: " + "".join(seen)
    else:
        proc.wait(timeout=30)
        pytest.fail(f"the command ended (rc {proc.returncode}) before it could be interrupted:\n" + "".join(seen))
    rest = proc.stderr.read()
    rc = proc.wait(timeout=60)
    return rc, "".join(seen) + rest


def _errors_after_progress(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith(("dedup ", "generate: "))]


@pytest.fixture(scope="module")
def wordy_store(tmp_path_factory) -> Path:
    """1,500 records with 150-word requests: near dedup takes long enough to be interrupted."""
    tmp = tmp_path_factory.mktemp("interrupt")
    rng = random.Random(3)
    vocab = [f"w{i}" for i in range(4000)]
    src = tmp / "wordy.jsonl"
    with src.open("w") as fh:
        for i in range(1500):
            rec = copy.deepcopy(SAMPLE[i % len(SAMPLE)])
            rec.pop("id", None)
            user = next(m for m in rec["messages"] if m["role"] == "user")
            user["content"] = " ".join(rng.choice(vocab) for _ in range(150))
            fh.write(json.dumps(rec) + "\n")
    db = tmp / "wordy.duckdb"
    proc = subprocess.run([sys.executable, "-m", "toolforge", "-q", "import", str(src), "--db", str(db)],
                          env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return db


def test_ctrl_c_stops_near_dedup_without_a_traceback(wordy_store, tmp_path):
    db = tmp_path / "copy.duckdb"
    db.write_bytes(wordy_store.read_bytes())
    before = store_digest(db)
    rc, err = _interrupt_when_working(["dedup", "--method", "near", "--num-perm", "256", "--db", str(db)], tmp_path,
                                      "dedup near: working")
    assert rc == 130, err
    assert "Traceback" not in err, err
    assert _errors_after_progress(err) == ["error: interrupted"], err
    assert store_digest(db) == before  # nothing marked, nothing lost


def test_ctrl_c_stops_generate_with_the_resume_hint(tmp_path):
    db = tmp_path / "gen.duckdb"
    rc, err = _interrupt_when_working(
        ["generate", "-s", "no_tool_needed", "--n", "200", "--teacher", "fake:", "--teacher-option", "latency=0.3",
         "--concurrency", "2", "--db", str(db)], tmp_path, r"generate: [1-9]")  # a record stored: a run to resume
    assert rc == 130, err
    assert "Traceback" not in err, err
    lines = _errors_after_progress(err)
    assert lines[0] == "error: interrupted", err
    assert len(lines) == 2 and lines[1].startswith("hint: what was accepted is stored; continue with "
                                                   "`toolforge generate --resume generate-"), err


def test_ctrl_c_during_validate_of_a_store(wordy_store, tmp_path):
    db = tmp_path / "copy.duckdb"
    db.write_bytes(wordy_store.read_bytes())
    rc, err = _interrupt_when_working(["validate", "--db", str(db)], tmp_path, "validate: working")
    assert rc == 130, err
    assert "Traceback" not in err, err
    assert [line for line in err.splitlines() if not line.startswith("validate: ")] == ["error: interrupted"], err


@pytest.fixture(scope="module")
def many_records(tmp_path_factory) -> Path:
    """20,000 distinct sample records as JSON Lines: several seconds of validation on two cores."""
    src = tmp_path_factory.mktemp("workers") / "many.jsonl"
    with src.open("w") as fh:
        for i in range(20_000):
            rec = copy.deepcopy(SAMPLE[i % len(SAMPLE)])
            rec.pop("id", None)
            next(m for m in rec["messages"] if m["role"] == "user")["content"] += f" (case {i})"
            fh.write(json.dumps(rec) + "\n")
    return src


def _validate_with_workers(src: Path, cwd: Path) -> subprocess.Popen:
    """``toolforge validate SRC --workers 2`` in its own process group, once it says it is working."""
    proc = subprocess.Popen([sys.executable, "-m", "toolforge", "validate", str(src), "--workers", "2"], cwd=cwd,
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert first.startswith("validate: working"), first
    return proc


def _group_ends(pgid: int, within: float, what: str) -> None:
    """Every process of the group has ended (the command, its forkserver and workers) within ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_ctrl_c_at_the_terminal_stops_validate_workers(many_records, tmp_path):
    """A terminal's Ctrl-C reaches the whole process group: the parent and its validation worker processes
    (``--workers 2``). One clean line, exit 130, and no worker left behind."""
    proc = _validate_with_workers(many_records, tmp_path)
    time.sleep(0.8)  # past the first chunks: the workers are judging
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.stderr is not None
    err = "validate: working\n" + proc.stderr.read()
    rc = proc.wait(timeout=60)
    assert rc == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert [line for line in err.splitlines() if not line.startswith("validate: ")] == ["error: interrupted"], err
    _group_ends(proc.pid, 10, "validation worker processes outlived the interrupted command")


def test_validate_killed_outright_leaves_no_worker_behind(many_records, tmp_path):
    """SIGKILL to the command alone (no chance to stop its pool): each worker sees its parent's sentinel close
    and ends, and then the forkserver, instead of waiting forever on a queue nobody feeds."""
    proc = _validate_with_workers(many_records, tmp_path)
    time.sleep(1.5)  # the workers are judging
    proc.kill()
    proc.wait(timeout=30)
    _group_ends(proc.pid, 20, "validation workers outlived the command killed with SIGKILL")
