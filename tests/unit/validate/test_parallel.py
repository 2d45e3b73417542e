"""``toolforge validate --workers N``: worker processes give the report and the stored results one process
gives, record for record, on the equivalence corpus (about 2,400 records with known issues); small inputs
start no process; a worker that dies is a clear error and what was stored stays."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.unit.validate.equivalence_corpus import issue_rows, read_golden
from toolforge.validate import parallel
from toolforge.validate.service import ValidateConfig, run_validate


@pytest.fixture(scope="module")
def golden() -> list[dict[str, Any]]:
    return read_golden()


ODD = [b"\n", b"   \t\n", "\u3000 \n".encode(), b"{not json\n", b"\xff\xfe{}\n"]


def _corpus_file(golden, path, *, odd_lines: bool = True):
    """The corpus as JSON Lines, with the lines one process treats specially spread through it: blank and
    whitespace-only lines (skipped, also a non-ASCII space), a line that is not JSON, one that is not UTF-8."""
    with path.open("wb") as fh:
        for k, row in enumerate(golden):
            fh.write(json.dumps(row["record"], ensure_ascii=False).encode() + b"\n")
            if odd_lines and k % 301 == 7:
                fh.write(ODD[k // 301 % 5])
    return path


def _unreadable(golden) -> int:
    return sum(1 for k in range(len(golden)) if k % 301 == 7 and k // 301 % 5 >= 3)


def test_worker_processes_give_the_report_one_process_gives(golden, tmp_path):
    path = _corpus_file(golden, tmp_path / "corpus.jsonl")
    one = run_validate(ValidateConfig(file=str(path), workers=1)).to_dict()
    two = run_validate(ValidateConfig(file=str(path), workers=2)).to_dict()
    assert two == one
    assert _unreadable(golden) >= 2
    assert one["summary"]["schema"]["records"] == len(golden) + _unreadable(golden)  # unreadable lines count too
    # and the corpus lines carry their stored issues (the line numbers shift by the odd lines before them)
    odd = {k + 2 + sum(1 for j in range(k) if j % 301 == 7) for k in range(len(golden)) if k % 301 == 7}
    got = [issue_rows(_issues(r)) for r in two["results"] if int(r["where"].split(":")[1].split()[0]) not in odd]
    want = [row["issues"] for row in golden if row["issues"]]
    assert got == want


def _issues(result: dict[str, Any]) -> list[Any]:
    from toolforge.validate.issues import Issue

    return [Issue(i["code"], i["path"], i["message"], i["severity"]) for i in result["issues"]]


def test_limit_counts_the_lines_one_process_counts(golden, tmp_path):
    path = _corpus_file(golden, tmp_path / "corpus.jsonl")
    for limit in (1_400, 2_101):
        one = run_validate(ValidateConfig(file=str(path), workers=1, limit=limit)).to_dict()
        two = run_validate(ValidateConfig(file=str(path), workers=2, limit=limit)).to_dict()
        assert two == one and one["summary"]["schema"]["records"] == limit


def test_a_small_input_starts_no_process(golden, tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("worker processes started for a small input")

    monkeypatch.setattr(parallel, "_in_workers", refuse)
    path = _corpus_file(golden[:parallel.START_AFTER], tmp_path / "small.jsonl", odd_lines=False)
    report = run_validate(ValidateConfig(file=str(path), workers=4))
    assert report.summaries[0].records == parallel.START_AFTER
    with pytest.raises(AssertionError, match="worker processes started"):  # one record more: workers
        run_validate(ValidateConfig(file=str(_corpus_file(golden[:parallel.START_AFTER + 1], tmp_path / "b.jsonl",
                                                          odd_lines=False)), workers=4))


def test_worker_count():
    assert parallel.resolve_workers(3) == 3
    assert 1 <= parallel.resolve_workers(0) == parallel.resolve_workers(None) <= parallel.MAX_AUTO
    if hasattr(os, "sched_getaffinity"):
        assert parallel.resolve_workers(0) == min(len(os.sched_getaffinity(0)), parallel.MAX_AUTO)


def _store_tables(store) -> tuple[list[Any], list[Any]]:
    vals = store.con.execute("SELECT record_id, stage, ok, n_issues FROM validations ORDER BY ALL").fetchall()
    iss = store.con.execute("SELECT record_id, stage, code, path, message, severity FROM issues "
                            "ORDER BY ALL").fetchall()
    return vals, iss


def _records(rows) -> list[Any]:
    from toolforge.record import Record

    recs = []
    for row in rows:
        try:
            recs.append(Record.model_validate({k: v for k, v in row["record"].items() if k != "id"}))
        except ValueError:
            continue
    return recs


def test_worker_processes_store_what_one_process_stores(golden, tmp_path):
    from toolforge.store import open_store
    from toolforge.validate.run import validate_store

    recs = _records(golden)
    assert len(recs) > 1500
    out = {}
    for workers in (1, 2):
        with open_store(tmp_path / f"s{workers}.duckdb") as store:
            store.upsert_records(recs, source="test")
            results: list = []
            summary = validate_store(store, results=results, workers=workers, batch_size=700)
            out[workers] = (summary.to_dict(), results, _store_tables(store))
    assert out[2] == out[1]
    assert out[1][0]["records"] == len({r.id for r in recs}) and out[1][0]["failed"] > 500


def _die(chunk: list[Any], validator: Any = None) -> list[Any]:  # a worker that ends without an answer
    if validator is None:
        os._exit(3)
    return parallel.judge_rows(chunk, validator)


def test_a_worker_that_dies_is_an_error_and_stored_results_stay(golden, tmp_path, monkeypatch):
    from toolforge.store import open_store
    from toolforge.validate.run import validate_store

    recs = _records(golden)[:1200]
    with open_store(tmp_path / "s.duckdb") as store:
        store.upsert_records(recs, source="test")
        validate_store(store, workers=1)
        before = _store_tables(store)
        monkeypatch.setattr(parallel, "judge_rows", _die)
        with pytest.raises(parallel.WorkerDied, match="worker process died"):
            validate_store(store, workers=2)
        assert _store_tables(store) == before  # nothing was replaced by a half run


def test_the_cli_option(golden, tmp_path, run_cli):
    path = _corpus_file(golden, tmp_path / "corpus.jsonl")
    one = run_cli("validate", path, "--json", "--workers", "1")
    two = run_cli("validate", path, "--json", "-j", "2")
    assert one.returncode == two.returncode == 1
    assert json.loads(two.stdout) == json.loads(one.stdout)
    bad = run_cli("validate", path, "--workers", "-1")
    assert bad.returncode == 2 and "workers" in bad.stderr


def test_no_process_semaphores_means_one_process_with_a_warning(golden, tmp_path, monkeypatch, caplog):
    """Where worker processes cannot start (no POSIX semaphores in some sandboxes), the input is checked here,
    with a warning, and the report is the same."""
    import concurrent.futures

    def no_semaphores(*a, **k):
        raise OSError(38, "Function not implemented")

    path = _corpus_file(golden[:1600], tmp_path / "c.jsonl", odd_lines=False)
    want = run_validate(ValidateConfig(file=str(path), workers=1)).to_dict()
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_semaphores)
    with caplog.at_level("WARNING", logger="toolforge.validate.parallel"):
        got = run_validate(ValidateConfig(file=str(path), workers=2)).to_dict()
    assert got == want
    assert "cannot start here" in caplog.text and "Function not implemented" in caplog.text


def test_the_forkserver_hook_is_quiet_only_when_the_parent_is_gone():
    """What a worker that cannot start prints (``_worker_boot``'s excepthook, set in the forkserver only)."""
    import subprocess
    import sys

    code = ("import toolforge.validate._worker_boot, sys\n"
            "for exc in (FileNotFoundError(2, 'No such file or directory'), ValueError('bad start-up data')):\n"
            "    try:\n        raise exc\n    except Exception:\n        sys.excepthook(*sys.exc_info())\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(parallel.__file__).rsplit("/toolforge/", 1)[0]})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith("could not start: ValueError: bad start-up data"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_line_that_is_no_record_is_named_by_its_line_only(tmp_path):
    """The report names a line by its content id only when it forms a Record; an id the line merely states is
    not taken for one (as before the worker path)."""
    path = tmp_path / "odd.jsonl"
    path.write_text('{"id": "stated-id", "messages": "not a list"}\n', "utf-8")
    report = run_validate(ValidateConfig(file=str(path), workers=1))
    assert [where for where, _ in report.results] == [f"{path}:1"]
