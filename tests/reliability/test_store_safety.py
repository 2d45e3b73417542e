"""Stores and user files are never lost: issue #14's data-loss and stores-from-elsewhere classes.

Every case drives the real CLI (a subprocess) on real DuckDB files and asserts the exit code,
the one-line error, that no traceback is printed, and that nothing stored changed: the
store's digest (every table's rows) and the bytes of every user file involved.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import EXAMPLES
from tests.helpers import store_digest
from toolforge import __version__


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def one_line_error(proc, expect: str, *, code: int = 2) -> str:
    """The single ``error:`` line (plus an optional hint), with ``expect`` in it; no traceback."""
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    assert proc.returncode == code, f"exit {proc.returncode}\nstdout={proc.stdout}\nstderr={proc.stderr}"
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error: "), proc.stderr
    assert all(ln.startswith(("error: ", "hint: ")) for ln in lines), f"more than a one-line error: {proc.stderr!r}"
    assert sum(ln.startswith("error: ") for ln in lines) == 1, proc.stderr
    assert expect in lines[0], f"expected {expect!r} in {lines[0]!r}"
    return lines[0]


def _data_file(tmp: Path, suffix: str) -> Path:
    p = tmp / f"train{suffix}"
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"text": ["a", "b"], "n": [1, 2]}), p)
    elif suffix == ".csv":
        p.write_text("text,n\na,1\nb,2\n")
    elif suffix == ".json":
        p.write_text(json.dumps([{"text": "a"}, {"text": "b"}]))
    else:
        shutil.copy(EXAMPLES / "sample.jsonl", p)
    return p


# --- data loss: --db pointing at a data file --------------------------------------------------------
@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", ".parquet"])
@pytest.mark.parametrize("command", [["import", str(EXAMPLES / "sample.jsonl")], ["validate"], ["list"],
                                     ["export", "--format", "openai", "--status", "any", "--out", "out"]])
def test_db_that_is_a_data_file_is_refused(run_cli, tmp_path, suffix, command):
    data = _data_file(tmp_path, suffix)
    before = sha(data)
    listing = sorted(p.name for p in tmp_path.iterdir())
    proc = run_cli(*command, "--db", data)
    one_line_error(proc, "is not a toolforge store")
    assert sha(data) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no .wal, no out/ folder


def test_new_db_path_named_like_a_data_file_is_refused(run_cli, tmp_path):
    proc = run_cli("import", EXAMPLES / "sample.jsonl", "--db", tmp_path / "records.jsonl")
    one_line_error(proc, "data file, not a store")
    assert not (tmp_path / "records.jsonl").exists()


@pytest.mark.parametrize("command", [["import", str(EXAMPLES / "sample.jsonl")], ["list"]])
def test_an_empty_file_is_not_a_store(run_cli, tmp_path, command):
    empty = tmp_path / "store.duckdb"
    empty.touch()
    one_line_error(run_cli(*command, "--db", empty), "is an empty file, not a toolforge store")
    assert empty.read_bytes() == b""


def test_a_foreign_duckdb_database_is_not_turned_into_a_store(run_cli, tmp_path):
    db = tmp_path / "analytics.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE sales AS SELECT range AS id, range * 2 AS amount FROM range(100)")
    con.close()
    before = store_digest(db)
    proc = run_cli("import", EXAMPLES / "sample.jsonl", "--db", db)
    one_line_error(proc, "not a toolforge store")
    assert store_digest(db) == before


# --- data loss: export only replaces or deletes what its manifest says it wrote --------------------------
def test_export_never_replaces_a_users_file(run_cli, filled_db, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "train.jsonl").write_text('{"mine": "my own training data"}\n')
    before, user = store_digest(filled_db), sha(out / "train.jsonl")
    proc = run_cli("export", "--db", filled_db, "--format", "openai", "--status", "any", "--out", out)
    one_line_error(proc, "was not written by toolforge")
    assert sha(out / "train.jsonl") == user
    assert sorted(p.name for p in out.iterdir()) == ["train.jsonl"]  # no temporary folder left
    assert store_digest(filled_db) == before


def test_export_removes_only_files_its_manifest_lists(run_cli, filled_db, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    (tmp_path / "victim.txt").write_text("outside\n")
    run_cli("export", "--db", filled_db, "--format", "openai", "--status", "any", "--test-fraction", "0.25",
            "--out", out, check=True)
    manifest = json.loads((out / "export.json").read_text())
    assert sorted(manifest["files"]) == ["test.jsonl", "train.jsonl"] and manifest["written_by"] == "toolforge"
    # a hand-edited manifest naming files outside the folder must not make toolforge delete them
    manifest["files"] += ["../victim.txt", str(tmp_path / "victim.txt"), "sub/../../victim.txt"]
    (out / "export.json").write_text(json.dumps(manifest))
    proc = run_cli("export", "--db", filled_db, "--format", "openai", "--status", "any", "--out", out)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["export.json", "notes.txt", "train.jsonl"]  # its old test split went
    assert (out / "notes.txt").read_text() == "mine\n" and (tmp_path / "victim.txt").read_text() == "outside\n"
    assert json.loads((out / "export.json").read_text())["files"] == ["train.jsonl"]


def test_export_keeps_a_users_test_split_it_does_not_write(run_cli, filled_db, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "test.jsonl").write_text('{"mine": 1}\n')
    proc = run_cli("export", "--db", filled_db, "--format", "sharegpt", "--status", "any", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert (out / "test.jsonl").read_text() == '{"mine": 1}\n'


def test_export_over_a_users_export_json_is_refused(run_cli, filled_db, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "export.json").write_text('{"my": "settings"}')
    before = store_digest(filled_db)
    proc = run_cli("export", "--db", filled_db, "--format", "openai", "--status", "any", "--out", out)
    one_line_error(proc, "export.json exists and was not written by toolforge")
    assert (out / "export.json").read_text() == '{"my": "settings"}' and store_digest(filled_db) == before


# --- data loss: push --stage-dir ------------------------------------------------------------------------
def test_stage_dir_with_a_users_data_folder_is_refused(run_cli, filled_db, tmp_path):
    stage = tmp_path / "stage"
    (stage / "data").mkdir(parents=True)
    (stage / "data" / "mine.parquet").write_bytes(b"PAR1 my own shard PAR1")
    before, user = store_digest(filled_db), sha(stage / "data" / "mine.parquet")
    proc = run_cli("push", "me/tools", "--db", filled_db, "--status", "any", "--dry-run", "--stage-dir", stage)
    one_line_error(proc, "holds files toolforge did not write: data/mine.parquet")
    assert sha(stage / "data" / "mine.parquet") == user
    assert sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*")) == ["data", "data/mine.parquet"]
    assert store_digest(filled_db) == before


def test_restaging_replaces_only_its_own_files(run_cli, filled_db, tmp_path):
    stage = tmp_path / "stage"
    args = ("push", "me/tools", "--db", filled_db, "--status", "any", "--dry-run", "--stage-dir", stage)
    run_cli(*args, "--test-fraction", "0.25", check=True)
    assert list(stage.glob("data/test-*.parquet"))
    run_cli(*args, check=True)  # again, without a test split: the old test shards go, nothing else
    files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    assert files[:2] == [".toolforge-stage.json", "README.md"] and len(files) > 2
    assert all(f.startswith("data/train-") and f.endswith(".parquet") for f in files[2:])
    assert sorted(json.loads((stage / ".toolforge-stage.json").read_text())["files"]) == files[1:]
    (stage / "notes.md").write_text("mine")
    proc = run_cli(*args)
    one_line_error(proc, "holds files toolforge did not write: notes.md")
    assert (stage / "notes.md").read_text() == "mine"


# --- stores from elsewhere ---------------------------------------------------------------------------------
def _from_the_future(db: Path) -> Path:
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO _migrations (name, toolforge_version) VALUES ('m9900_from_the_future', '9.9.0')")
    con.close()
    return db


@pytest.mark.parametrize("command", [["import", str(EXAMPLES / "sample.jsonl")], ["validate"], ["dedup"],
                                     ["export", "--format", "openai", "--status", "any", "--out", "out"]])
def test_store_from_a_newer_toolforge_is_refused_for_writes(run_cli, filled_db, command):
    db = _from_the_future(filled_db)
    before = store_digest(db)
    proc = run_cli(*command, "--db", db)
    line = one_line_error(proc, "m9900_from_the_future")
    assert "toolforge 9.9.0" in line and f"this is toolforge {__version__}" in line
    assert store_digest(db) == before
    listed = run_cli("list", "--db", db, "--json")  # reading it is fine
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 8


def _truncated(db: Path, dest: Path, cut: int) -> Path:
    dest.write_bytes(db.read_bytes()[:cut])
    return dest


TRUNCATED_COMMANDS = {
    "import": ["import", str(EXAMPLES / "sample.jsonl")],
    "validate": ["validate"],
    "dedup": ["dedup"],
    "export": ["export", "--format", "openai", "--status", "any", "--out", "out"],
    "push": ["push", "me/tools", "--dry-run", "--status", "any", "--stage-dir", "stage"],
    "tts": ["tts", "--dry-run"],
    "stats": ["stats"],
    "list": ["list"],
    "review-status": ["review", "status"],
}


@pytest.mark.parametrize("name", sorted(TRUNCATED_COMMANDS))
def test_truncated_store_is_refused_by_every_command(run_cli, filled_db, tmp_path, name):
    size = filled_db.stat().st_size
    damaged = _truncated(filled_db, tmp_path / "damaged.duckdb", size - 1000)
    before = sha(damaged)
    proc = run_cli(*TRUNCATED_COMMANDS[name], "--db", damaged)
    one_line_error(proc, "is damaged: the file is truncated")
    assert sha(damaged) == before
    assert not (tmp_path / "out").exists() and not (tmp_path / "stage").exists()


def test_store_cut_at_a_block_boundary_is_not_written(run_cli, filled_db, tmp_path):
    """A cut on a block boundary passes the header check; DuckDB then fails on the missing block,
    and validate must still write nothing."""
    block = 262144
    cut = 3 * 4096 + block * ((filled_db.stat().st_size - 3 * 4096) // block - 1)
    damaged = _truncated(filled_db, tmp_path / "damaged.duckdb", cut)
    before = sha(damaged)
    proc = run_cli("validate", "--db", damaged)
    one_line_error(proc, "store")
    assert sha(damaged) == before


@pytest.mark.parametrize("command", [["export", "--format", "openai", "--out", "out"], ["dedup"], ["tts"],
                                     ["push", "me/tools", "--dry-run", "--stage-dir", "stage"], ["validate"],
                                     ["stats"], ["list"]])
def test_mistyped_db_is_never_created(run_cli, tmp_path, command):
    typo = tmp_path / "toolforg.duckdb"
    proc = run_cli(*command, "--db", typo)
    one_line_error(proc, f"no store at {typo}")
    assert not typo.exists() and not typo.with_name(typo.name + ".wal").exists()
    assert not (tmp_path / "out").exists() and not (tmp_path / "stage").exists()


def test_failed_import_stores_nothing_and_leaves_no_running_run(run_cli, filled_db, tmp_path):
    con = duckdb.connect(str(filled_db))
    con.execute("ALTER TABLE records RENAME TO records_damaged")  # a store whose records table is gone
    con.close()
    before = store_digest(filled_db)
    proc = run_cli("import", EXAMPLES / "sample.jsonl", "--db", filled_db)
    one_line_error(proc, "records")
    assert store_digest(filled_db) == before
    con = duckdb.connect(str(filled_db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone() == (0,)
    finally:
        con.close()
