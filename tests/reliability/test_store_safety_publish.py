"""Issue #14's publishing, secrets and round-trip classes, through the real CLI.

- push uploads exactly the staged files (never a ``.env``), to a private repo unless ``--public``,
  and refuses a stage folder holding files toolforge did not write unless ``--force``
  (the Hub-API test double in tests/hubserver, driven by the real huggingface_hub client);
- a password in a teacher URL reaches no table, record, export, card or message;
- ``eval --references`` reads back every conversation export toolforge writes.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.helpers import store_digest
from tests.reliability.teacher_server import FaultyTeacher
from tests.reliability.test_store_safety import one_line_error
from toolforge.record import Record
from toolforge.store import Selection, open_store

PASSWORD = "S3cret" + "PASSw0rd-" + "7f1e9"


def _public(hub, repo: str) -> bool:
    """Whether an anonymous client can see the repo (a private one answers 404/401)."""
    try:
        with urllib.request.urlopen(f"{hub.url}/api/datasets/{repo}", timeout=10):
            return True
    except urllib.error.HTTPError as exc:
        assert exc.code in (401, 404), exc.code
        return False


def _commits(hub) -> list[str]:
    return [r for r in hub.requests() if "/commit/" in r or "/repos/create" in r]


# --- publishing -------------------------------------------------------------------------------------
def test_push_publishes_exactly_the_staged_files_privately(run_cli, hub_server, filled_db, tmp_path):
    env = hub_server.env(xet=False)
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / ".env").write_text(f"OPENAI_API_KEY=sk-{PASSWORD}\n")
    (stage / "notes.md").write_text("my notes\n")
    before = store_digest(filled_db)

    refused = run_cli("push", "me/tools", "--db", filled_db, "--status", "any", "--stage-dir", stage, env=env)
    one_line_error(refused, "holds files toolforge did not write: .env and 1 more")
    assert _commits(hub_server) == [] and store_digest(filled_db) == before
    assert sorted(p.name for p in stage.iterdir()) == [".env", "notes.md"]

    proc = run_cli("push", "me/tools", "--db", filled_db, "--status", "any", "--stage-dir", stage, "--force",
                   env=env)
    assert proc.returncode == 0, proc.stderr
    files = set(hub_server.head("me/tools")["files"]) - {".gitattributes"}
    staged = json.loads((stage / ".toolforge-stage.json").read_text())["files"]
    assert files == set(staged) and "README.md" in files
    assert all(f == "README.md" or (f.startswith("data/train-") and f.endswith(".parquet")) for f in files)
    assert not _public(hub_server, "me/tools")  # private unless --public
    blobs = [p.read_bytes() for p in hub_server.root.rglob("*") if p.is_file()]
    assert blobs and not any(PASSWORD.encode() in b or b"my notes" in b for b in blobs)
    assert (stage / ".env").read_text().startswith("OPENAI_API_KEY=") and (stage / "notes.md").is_file()

    public = run_cli("push", "me/open-tools", "--public", "--db", filled_db, "--status", "any", env=env)
    assert public.returncode == 0, public.stderr
    assert _public(hub_server, "me/open-tools")


def test_push_to_a_mistyped_store_publishes_nothing(run_cli, hub_server, tmp_path):
    typo = tmp_path / "toolforg.duckdb"
    proc = run_cli("push", "me/tools", "--db", typo, "--status", "any", env=hub_server.env(xet=False))
    one_line_error(proc, f"no store at {typo}")
    assert not typo.exists() and _commits(hub_server) == []


# --- secrets --------------------------------------------------------------------------------------------
@pytest.fixture
def teacher():
    server = FaultyTeacher(rate=0.0, seed=3).start()
    yield server
    server.stop()


def _scan(root: Path):
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".duckdb":
            con = duckdb.connect(str(p), read_only=True)
            try:
                for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                    yield f"{p.name}:{t}", repr(con.execute(f'SELECT * FROM "{t}"').fetchall())
            finally:
                con.close()
        elif p.suffix == ".parquet":
            import pyarrow.parquet as pq

            yield str(p), json.dumps(pq.read_table(p).to_pylist(), default=str)
        else:
            yield str(p), p.read_bytes().decode("utf-8", errors="replace")


def test_teacher_url_password_is_recorded_nowhere(run_cli, teacher, tmp_path):
    url = teacher.url.replace("http://", f"http://alice:{PASSWORD}@")
    db = tmp_path / "gen.duckdb"
    outputs = []
    for args in (["generate", "--teacher", f"openai:m@{url}", "-s", "single_tool", "-n", "2", "--mode", "oneshot",
                  "--seed", "3"],
                 ["export", "--format", "openai", "--status", "any", "--out", tmp_path / "out"],
                 ["push", "me/tools", "--dry-run", "--status", "any", "--stage-dir", tmp_path / "stage"],
                 ["stats"]):
        proc = run_cli(*args, "--db", db)
        assert proc.returncode == 0, (args, proc.stderr)
        outputs += [proc.stdout, proc.stderr]
    assert teacher.answered > 0, "the teacher was never asked: the test proves nothing"
    con = duckdb.connect(str(db), read_only=True)
    try:
        config = con.execute("SELECT config FROM runs WHERE kind = 'generate'").fetchone()[0]
        metas = [json.loads(m) for (m,) in con.execute("SELECT meta FROM records").fetchall()]
    finally:
        con.close()
    assert "alice:***@127.0.0.1" in config  # the URL is kept, its password is not
    assert metas and all(m["teacher"].startswith("openai:m@http://alice:***@") for m in metas)
    texts = [*(("output", o) for o in outputs), *_scan(tmp_path)]
    assert len(texts) > 6
    for where, text in texts:
        assert PASSWORD not in text, f"the teacher URL's password leaked into {where}"


def test_teacher_url_password_is_not_in_the_error(run_cli, filled_db, tmp_path):
    before = store_digest(filled_db)
    proc = run_cli("generate", "--teacher", f"openai:m@http://alice:{PASSWORD}@127.0.0.1:1/v1", "-s", "single_tool",
                   "-n", "1", "--mode", "oneshot", "--db", filled_db)
    line = one_line_error(proc, "alice:***@127.0.0.1:1")
    assert PASSWORD not in proc.stderr + proc.stdout and "cannot reach" in line
    assert store_digest(filled_db) == before


# --- round trip: exports read back as references -------------------------------------------------------
def _first_turn_calls(db: Path) -> dict[str, tuple[str, list]]:
    """Per stored record: its first user message and the calls of its first assistant message."""
    out = {}
    with open_store(db, read_only=True) as store:
        for rec in store.iter_records(Selection(status="any")):
            user = next(m.content for m in rec.messages if m.role == "user")
            first = next(m for m in rec.messages if m.role == "assistant")
            out[str(user)] = (rec.id, [{"name": c.name, "arguments": c.arguments} for c in first.tool_calls or []])
    return out


def _openai_line_id(line: dict) -> str:
    """The content id of an openai export line (it has no id field): what eval keys it by."""
    msgs = [{("reasoning" if k == "reasoning_content" else k): v for k, v in m.items()} for m in line["messages"]]
    return str(Record.model_validate({"tools": line["tools"], "messages": msgs}).id)


@pytest.mark.parametrize("fmt,think", [("openai", "tags"), ("openai", "field"), ("sharegpt", "tags"),
                                       ("hermes", "tags"), ("trl", "field")])
def test_eval_reads_back_every_export(run_cli, filled_db, tmp_path, fmt, think):
    out = tmp_path / "export"
    run_cli("export", "--db", filled_db, "--format", fmt, "--think", think, "--status", "any", "--out", out,
            check=True)
    refs = out / ("train.parquet" if fmt == "trl" else "train.jsonl")
    by_user = _first_turn_calls(filled_db)
    preds = []
    if fmt == "openai":
        for text in refs.read_text().splitlines():
            line = json.loads(text)
            user = next(m["content"] for m in line["messages"] if m["role"] == "user")
            preds.append({"id": _openai_line_id(line), "tool_calls": by_user[user][1]})
    else:
        for rid, calls in by_user.values():
            preds.append({"id": rid, "tool_calls": calls})
    pred_file = tmp_path / "preds.jsonl"
    pred_file.write_text("".join(json.dumps(p) + "\n" for p in preds))
    proc = run_cli("eval", "--references", refs, "--predictions", pred_file, "--first-turn-only", "--json")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    overall = json.loads(proc.stdout)["overall"]
    assert overall["counts"]["turns"] == len(by_user) == 8
    assert overall["exact_match"] == 1.0 and overall["counts"]["missing_predictions"] == 0


def test_damaged_parquet_references_are_one_line(run_cli, tmp_path):
    refs = tmp_path / "train.parquet"
    refs.write_bytes(b"PAR1" + b"\x00" * 64)
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "x", "tool_calls": []}\n')
    one_line_error(run_cli("eval", "--references", refs, "--predictions", preds), "not a readable Parquet file")


def test_eval_with_a_mistyped_db_creates_no_store(run_cli, filled_db, tmp_path):
    out = tmp_path / "export"
    run_cli("export", "--db", filled_db, "--format", "sharegpt", "--status", "any", "--out", out, check=True)
    by_user = _first_turn_calls(filled_db)
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": rid, "tool_calls": calls}) + "\n" for rid, calls in by_user.values()))
    typo = tmp_path / "toolforg.duckdb"
    proc = run_cli("eval", "--references", out / "train.jsonl", "--predictions", preds, "--first-turn-only",
                   "--db", typo, "--out", tmp_path / "eval")
    one_line_error(proc, f"no store at {typo}")
    assert not typo.exists() and not (tmp_path / "eval").exists()
