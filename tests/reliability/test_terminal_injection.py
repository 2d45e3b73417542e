"""Data never drives the terminal.

Record text, tool names and descriptions, annotator names and catalog contents hold
ANSI/OSC escape sequences (clear screen, window title, OSC 8 hyperlinks), 8-bit C1
controls, a bidi override and Rich markup (``[/bold]`` used to crash ``list``,
``stats`` and ``tools list``; ``[link=...]`` made a clickable link). Every command that
shows them must exit 0 with no traceback, show the text with the escapes stripped and
the markup literal, and keep ``--json`` exact. Each case runs the real CLI in a
subprocess, piped (plain tab-separated output, compared exactly) and, where Rich draws
tables, on a pseudo-terminal (the only escape sequences left are Rich's own colours).
"""

from __future__ import annotations

import copy
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import EXAMPLES, ROOT
from tests.helpers import store_digest

SAMPLE = [json.loads(line) for line in (EXAMPLES / "sample.jsonl").read_text().splitlines() if line.strip()]

# what an attacker writes into a dataset
EVIL_TEXT = ("hi \x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ "
             "[/bold] [link=https://evil.example]here[/link] \x9b31mred\x07\x08 \u202eevil end")
EVIL_TOOL = "get_[/bold]\x1b[31m"
EVIL_DESC = "[link=https://evil.example]docs[/link]\x1b]0;title\x07 :red_heart: done"
EVIL_ANNOTATOR = "mallory[/bold]\x1b]8;;https://evil.example\x07"
# what the terminal must show instead
SHOWN_TEXT = "hi click [/bold] [link=https://evil.example]here[/link] red evil end"
SHOWN_TOOL = "get_[/bold]"
SHOWN_DESC = "[link=https://evil.example]docs[/link] :red_heart: done"
SHOWN_ANNOTATOR = "mallory[/bold]"

# any control character but newline and tab, C1 controls, bidi overrides
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # Rich's own colours: the only sequences allowed on a terminal


def _evil_record() -> dict:
    rec = copy.deepcopy(SAMPLE[0])  # single_tool: get_weather called once
    rec.pop("id", None)
    old = rec["tools"][0]["function"]["name"]
    rec["tools"][0]["function"]["name"] = EVIL_TOOL
    rec["tools"][0]["function"]["description"] = EVIL_DESC
    for m in rec["messages"]:
        if m["role"] == "user":
            m["content"] = EVIL_TEXT
        for c in m.get("tool_calls") or []:
            if c["function"]["name"] == old:
                c["function"]["name"] = EVIL_TOOL
        if m.get("name") == old:
            m["name"] = EVIL_TOOL
    return rec


def _env(tmp: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "250", "TERM": "xterm-256color"}


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolforge", *map(str, args)], capture_output=True, text=True,
                          cwd=tmp, env=_env(tmp), timeout=120)


def _run_tty(tmp: Path, *args: str) -> tuple[int, str, str]:
    """Run with stdout on a pseudo-terminal (Rich draws its tables); returns (rc, terminal text, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "toolforge", *map(str, args)], stdout=slave,
                            stderr=subprocess.PIPE, cwd=tmp, env=_env(tmp))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    err = proc.stderr.read().decode() if proc.stderr else ""
    rc = proc.wait(timeout=120)
    return rc, b"".join(chunks).decode("utf-8", "replace"), err


def _assert_clean(text: str, where: str) -> None:
    assert "Traceback" not in text, f"{where}: traceback\n{text}"
    bad = CONTROL.findall(SGR.sub("", text).replace("\r\n", "\n"))
    assert not bad, f"{where}: control characters reached the terminal: {bad!r}\n{text!r}"
    assert "\x1b]" not in text and "evil.example\x1b" not in text, f"{where}: OSC sequence (link/title)"


@pytest.fixture
def evil_store(tmp_path) -> Path:
    src = tmp_path / "evil.jsonl"
    src.write_text(json.dumps(_evil_record()) + "\n")
    db = tmp_path / "evil.duckdb"
    proc = _run(tmp_path, "import", src, "--db", db)
    assert proc.returncode == 0, proc.stderr
    return db


def _rid(tmp: Path, db: Path) -> str:
    return json.loads(_run(tmp, "list", "--db", db, "--json").stdout)[0]["id"]


def test_list_piped_is_plain_and_exactly_sanitized(tmp_path, evil_store):
    before = store_digest(evil_store)
    proc = _run(tmp_path, "list", "--db", evil_store)
    assert proc.returncode == 0, proc.stderr
    _assert_clean(proc.stdout + proc.stderr, "list")
    rid = _rid(tmp_path, evil_store)
    assert proc.stdout.splitlines() == ["# 1 records", "id\tscenario\tcalls\tuser request",
                                        f"{rid}\tsingle_tool\t{SHOWN_TOOL}\t{SHOWN_TEXT}"]
    assert store_digest(evil_store) == before


@pytest.mark.parametrize("args", [["list"], ["stats"], ["tools", "list", "--catalog", "{catalog}"],
                                  ["review", "status"]], ids=["list", "stats", "tools-list", "review-status"])
def test_tables_on_a_terminal_show_data_literally(tmp_path, evil_store, args):
    catalog = tmp_path / "evil-catalog.json"
    tool = _evil_record()["tools"][0]
    tool["function"]["name"] = "lookup"  # catalogs refuse names that are not identifiers; descriptions are free text
    catalog.write_text(json.dumps({"name": "evil", "tools": [tool]}))
    rid = _rid(tmp_path, evil_store)
    with duckdb.connect(str(evil_store)) as con:  # an annotation by a hostile annotator name
        con.execute("INSERT INTO review_annotations (url, project_id, annotation_id, task_id, record_id, annotator, "
                    "status, choice, edit_status) VALUES ('http://127.0.0.1:1', 1, 1, 1, ?, ?, 'ok', 'accept', 'none')",
                    [rid, EVIL_ANNOTATOR])
    before = store_digest(evil_store)
    full = [a.replace("{catalog}", str(catalog)) for a in args]
    db_args = [] if args[0] == "tools" else ["--db", str(evil_store)]
    rc, out, err = _run_tty(tmp_path, *full, *db_args)
    assert rc == 0, err
    _assert_clean(out + err, " ".join(args))
    plain = SGR.sub("", out)
    assert "─" in plain or "━" in plain, "a terminal gets a drawn table"
    expected = {"list": [SHOWN_TOOL], "stats": [SHOWN_TOOL], "tools": ["lookup", "[link=https://evil.example]docs"],
                "review": [SHOWN_ANNOTATOR]}[args[0]]
    for text in expected:
        assert text in plain, f"{text!r} not shown literally in\n{plain}"
    if args[0] == "tools":
        assert ":red_heart:" in plain  # not turned into an emoji: data is never markup
    assert store_digest(evil_store) == before


def test_json_output_stays_exact(tmp_path, evil_store):
    rid = _rid(tmp_path, evil_store)
    for args in (["list", "--json"], ["show", rid]):
        proc = _run(tmp_path, *args, "--db", evil_store)
        assert proc.returncode == 0, proc.stderr
        assert not CONTROL.search(proc.stdout), f"raw control characters in {args} --json output"
        data = json.loads(proc.stdout)
        if args[0] == "list":
            assert data[0]["user"] == EVIL_TEXT and data[0]["calls"] == [EVIL_TOOL]
        else:
            assert data["tools"][0]["function"] == {**_evil_record()["tools"][0]["function"]}
            assert [m["content"] for m in data["messages"] if m["role"] == "user"] == [EVIL_TEXT]


def test_error_that_quotes_data_is_one_clean_line(tmp_path):
    catalog = tmp_path / "bad-catalog.json"
    catalog.write_text(json.dumps({"name": "bad", "tools": [
        {"type": "function", "function": {"name": "bad name\x1b]0;pwned\x07[/bold]", "description": "d",
                                          "parameters": {"type": "object", "properties": {}}}}]}))
    proc = _run(tmp_path, "tools", "validate", catalog)
    assert proc.returncode == 2
    _assert_clean(proc.stderr, "tools validate")
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"error: {catalog}: tool bad name[/bold]: "), first
    assert len(proc.stderr.strip().splitlines()) <= 2  # the error and at most a hint


def test_parse_and_render_text_output(tmp_path):
    evil_call = "<tool_call>" + json.dumps({"name": EVIL_TOOL, "arguments": {"q": EVIL_TEXT}}) + "</tool_call>"
    proc = subprocess.run([sys.executable, "-m", "toolforge", "parse", "--family", "hermes"], input=evil_call,
                          capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not CONTROL.search(proc.stdout)
    assert json.loads(proc.stdout) == [{"name": EVIL_TOOL, "arguments": {"q": EVIL_TEXT}}]  # exact, escaped

    rec = json.dumps(_evil_record())
    piped = subprocess.run([sys.executable, "-m", "toolforge", "render", "--family", "hermes"], input=rec,
                           capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert EVIL_TEXT in piped.stdout  # into a file or a pipe the training text is exact

    master, slave = pty.openpty()
    proc2 = subprocess.Popen([sys.executable, "-m", "toolforge", "render", "--family", "hermes"],
                             stdin=subprocess.PIPE, stdout=slave, stderr=subprocess.PIPE, cwd=tmp_path,
                             env=_env(tmp_path))
    os.close(slave)
    proc2.stdin.write(rec.encode())
    proc2.stdin.close()
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc2.wait(timeout=60) == 0
    shown = b"".join(chunks).decode()
    _assert_clean(shown, "render on a terminal")
    assert SHOWN_TEXT in shown
