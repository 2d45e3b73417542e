"""`toolforge import`, `list`, `show`, `tools` through the real CLI in a subprocess."""

from __future__ import annotations

import json

import pytest

from tests.helpers import store_digest
from toolforge.record import Record


def _count(run_cli, db) -> int:
    proc = run_cli("list", "--db", db, "--json", check=True)
    return len(json.loads(proc.stdout))


def test_import_twice_keeps_count(run_cli, tmp_db, sample_path, sample_dicts):
    first = run_cli("import", sample_path, "--db", tmp_db, "--json", check=True)
    assert json.loads(first.stdout)["imported"] == len(sample_dicts)
    second = run_cli("import", sample_path, "--db", tmp_db, "--json", check=True)
    assert json.loads(second.stdout) == {"lines": len(sample_dicts), "imported": 0,
                                         "already_stored": len(sample_dicts), "skipped": 0}
    assert _count(run_cli, tmp_db) == len(sample_dicts)


def test_bad_line_stores_nothing_unless_skip_invalid(run_cli, tmp_path, tmp_db, sample_path):
    lines = sample_path.read_text().splitlines()
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join([lines[0], lines[1], "{not json", lines[2]]) + "\n")
    proc = run_cli("import", mixed, "--db", tmp_db)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0].startswith(f"error: {mixed}:3: not JSON")
    assert "Traceback" not in proc.stderr
    if tmp_db.exists():
        assert run_cli("list", "--db", tmp_db, "--json", check=True).stdout.strip() == "[]"
    proc = run_cli("import", mixed, "--db", tmp_db, "--skip-invalid", "--json", check=True)
    assert json.loads(proc.stdout)["imported"] == 3
    assert f"{mixed}:3: skipped" in proc.stderr
    assert _count(run_cli, tmp_db) == 3


def test_openai_format_accepts_string_arguments(run_cli, tmp_path, tmp_db, sample_dicts):
    rows = []
    for d in sample_dicts:
        d = json.loads(json.dumps(d))
        for m in d["messages"]:
            for c in m.get("tool_calls") or []:
                c["function"]["arguments"] = json.dumps(c["function"]["arguments"])
        rows.append({"messages": d["messages"], "tools": d["tools"], "parallel_tool_calls": True})
    src = tmp_path / "openai.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run_cli("import", src, "--format", "openai", "--db", tmp_db, check=True)
    # the same conversations as the native sample: same content ids
    ids = {r["id"] for r in json.loads(run_cli("list", "--db", tmp_db, "--json", check=True).stdout)}
    assert ids == {Record.model_validate(d).id for d in sample_dicts}


def test_list_filters_and_show(run_cli, filled_db, sample_records):
    proc = run_cli("list", "--db", filled_db, "--scenario", "error_recovery", "--json", check=True)
    rows = json.loads(proc.stdout)
    assert [r["scenario"] for r in rows] == ["error_recovery"]
    shown = json.loads(run_cli("show", rows[0]["id"][:12], "--db", filled_db, check=True).stdout)
    assert shown["id"] == rows[0]["id"] and shown["messages"][-1]["role"] == "assistant"
    table = run_cli("list", "--db", filled_db, check=True).stdout
    assert "error_recovery" in table and f"{len(sample_records)} records" in table


def test_tools_show_prints_schema(run_cli):
    proc = run_cli("tools", "show", "get_weather", check=True)
    tool = json.loads(proc.stdout)
    assert tool["function"]["name"] == "get_weather"
    assert tool["function"]["parameters"]["required"] == ["city"]
    assert run_cli("tools", "show", "no_such_tool").returncode == 2


def test_builtin_catalogs_are_valid(run_cli):
    from toolforge.catalog import builtin_catalogs

    cats = builtin_catalogs()
    assert {"smol-tools", "camera"} <= set(cats)
    for path in cats.values():
        assert run_cli("tools", "validate", path).returncode == 0
    listing = json.loads(run_cli("tools", "list", "--json", check=True).stdout)
    smol = next(c for c in listing if c["catalog"] == "smol-tools")
    assert len(smol["tools"]) == 15


def _bad_catalog(tmp_path):
    p = tmp_path / "bad_catalog.json"
    p.write_text(json.dumps([{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "nonsense"}}}}}]))
    return p


def _corrupt_db(tmp_path):
    p = tmp_path / "corrupt.duckdb"
    p.write_bytes(b"\x00garbage" * 4096)
    return p


@pytest.mark.parametrize(
    "case",
    ["missing_file", "non_json_line", "bad_catalog", "unknown_format", "corrupt_db", "unknown_scenario", "bad_option"],
)
def test_bad_input_one_line_exit_2_store_unchanged(run_cli, tmp_path, filled_db, case):
    before = store_digest(filled_db)
    db = filled_db
    if case == "missing_file":
        args = ["import", tmp_path / "nope.jsonl"]
    elif case == "non_json_line":
        f = tmp_path / "bad.jsonl"
        f.write_text("{]\n")
        args = ["import", f]
    elif case == "bad_catalog":
        args = ["tools", "validate", _bad_catalog(tmp_path)]
    elif case == "unknown_format":
        args = ["import", tmp_path / "x.jsonl", "--format", "klingon"]
    elif case == "corrupt_db":
        db = _corrupt_db(tmp_path)
        before = db.read_bytes()
        args = ["list"]
    elif case == "unknown_scenario":
        args = ["list", "--scenario", "chit_chat"]
    else:
        args = ["list", "--frobnicate"]
    proc = run_cli(*args, "--db", db)
    assert proc.returncode == 2, proc.stderr
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert err_lines[0].startswith("error: ")
    assert all(ln.startswith(("error: ", "hint: ")) for ln in err_lines), proc.stderr
    assert "Traceback" not in proc.stderr
    if case == "corrupt_db":
        assert db.read_bytes() == before
    else:
        assert store_digest(filled_db) == before
