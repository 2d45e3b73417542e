"""Secrets: with sentinel values in OPENAI_API_KEY, HF_TOKEN and LABEL_STUDIO_API_KEY,
whole runs (one that succeeds through generate, validate, export and a push to the Hub test
double, and runs that fail: a dead Label Studio, a teacher that refuses the key) leave none
of them in stdout, stderr, logs, the store (every table's rows), exports, the dataset card,
or anything else written under the working folder, HOME or the Hub test double's repos.

The sentinels must be used for real (the teacher server saw the OpenAI key, the Hub
accepted the token), or the test would prove nothing."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import duckdb
import pytest

from tests.reliability.teacher_server import FaultyTeacher

OPENAI_KEY = "sk-SENTINEL" + "openai-" + "9f4c2e71d0b8a6"
LS_KEY = "SENTINEL" + "labelstudio" + "5e8a1c3f7b"


def _recipe(path: Path, teacher_url: str, *, review_url: str | None = None, push: bool = False) -> Path:
    text = f"""\
name: secrets
generate:
  scenarios: {{single_tool: 4, no_tool_needed: 2, multi_tool_parallel: 2, error_recovery: 2}}
  catalogs: [smol-tools]
  teacher: "openai:m@{teacher_url}"
  teacher_options: {{api_key_env: OPENAI_API_KEY, timeout: 1.0}}
  concurrency: 2
  seed: 9
export:
  formats: [openai, sharegpt]
  test_fraction: 0.2
"""
    if review_url:
        text += f"review:\n  url: {review_url}\n"
    if push:
        text += "push:\n  repo: me/secret-tools\n  private: true\n"
    path.write_text(text)
    return path


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _texts(root: Path):
    """(where, text) for every file under root; stores and Parquet files are read row by row."""
    for p in sorted(root.rglob("*")):
        if not p.is_file() or p.suffix == ".wal":
            continue
        if p.suffix == ".duckdb":
            con = duckdb.connect(str(p), read_only=True)
            try:
                for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                    yield f"{p}:{t}", repr(con.execute(f'SELECT * FROM "{t}"').fetchall())
            finally:
                con.close()
        elif p.suffix == ".parquet":
            import pyarrow.parquet as pq

            yield str(p), json.dumps(pq.read_table(p).to_pylist(), default=str)
        else:
            yield str(p), p.read_bytes().decode("utf-8", errors="replace")


@pytest.fixture
def teacher():
    server = FaultyTeacher(rate=0.3, seed=4, timeout_sleep=1.5).start()
    yield server
    server.stop()


def test_no_secret_anywhere_after_runs_that_pass_and_fail(run_cli, tmp_path, hub_server, teacher):
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    env = {**hub_server.env(xet=False), "OPENAI_API_KEY": OPENAI_KEY, "LABEL_STUDIO_API_KEY": LS_KEY,
           "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    secrets = {"OPENAI_API_KEY": OPENAI_KEY, "HF_TOKEN": hub_server.token, "LABEL_STUDIO_API_KEY": LS_KEY}
    outputs: list[tuple[str, str]] = []

    # 1. A run that succeeds: generate (with injected faults), validate, export, push to the Hub double.
    ok = run_cli("run", _recipe(work / "ok.yaml", teacher.url, push=True), "--db", work / "ok.duckdb", env=env, cwd=work)
    outputs += [("ok stdout", ok.stdout), ("ok stderr", ok.stderr)]
    assert ok.returncode == 0, ok.stderr
    assert json.loads(run_cli("list", "--db", work / "ok.duckdb", "--json", env=env, cwd=work).stdout)
    assert any(OPENAI_KEY in h for h in teacher.auth_headers), "the OpenAI key was never sent: the test proves nothing"
    assert hub_server.head("me/secret-tools"), "the push did not land: the HF token was never used"

    # 2. A run that fails at review: Label Studio is down (the key is in the environment).
    dead = f"http://127.0.0.1:{_closed_port()}"
    failed = run_cli("run", _recipe(work / "review.yaml", teacher.url, review_url=dead), "--db", work / "review.duckdb",
                     env=env, cwd=work)
    outputs += [("review stdout", failed.stdout), ("review stderr", failed.stderr)]
    assert failed.returncode != 0 and "error:" in failed.stderr

    # 3. A run that fails at once: the teacher refuses the key.
    refusing = FaultyTeacher(rate=0.0, reject_auth=True).start()
    try:
        refused = run_cli("run", _recipe(work / "refused.yaml", refusing.url), "--db", work / "refused.duckdb",
                          env=env, cwd=work)
    finally:
        refusing.stop()
    outputs += [("refused stdout", refused.stdout), ("refused stderr", refused.stderr)]
    assert refused.returncode != 0 and "error:" in refused.stderr
    assert any(OPENAI_KEY in h for h in refusing.auth_headers)

    scanned = 0
    for where, text in [*outputs, *_texts(work), *_texts(home), *_texts(hub_server.root)]:
        scanned += 1
        for name, value in secrets.items():
            assert value not in text, f"{name} leaked into {where}"
    assert scanned > 10
