"""`toolforge validate`, `render` and `parse` end to end: real CLI subprocesses, a real DuckDB file."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.unit.validate import records as R
from toolforge.record import Record
from toolforge.store import open_store

pytestmark = pytest.mark.integration


def _write(path, lines):
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def test_clean_file_exits_0_without_a_store(run_cli, sample_path, tmp_path):
    proc = run_cli("validate", sample_path, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] is True and out["summary"]["schema"]["records"] == 8 and out["results"] == []
    assert not list(tmp_path.glob("*.duckdb"))  # no store was created


def test_bad_lines_are_reported_per_line_with_codes(run_cli, tmp_path):
    bad_schema = R.single()
    bad_schema["tools"][0]["function"]["parameters"] = {"type": "object", "properties": {"city": {"type": "txt"}}}
    f = _write(tmp_path / "mixed.jsonl", [
        R.single(),                                   # 1 clean
        "{not json at all",                           # 2
        {"scenario": "single_tool", "tools": []},     # 3 no messages
        bad_schema,                                   # 4 invalid tool schema
        R.with_args({"city": "Oslo", "units": "kelvin"}),  # 5
        "",                                           # blank: skipped
        "[1, 2]",                                     # 7 not an object
    ])
    proc = run_cli("validate", f, "--json")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    by_line = {r["where"].split()[0]: [i["code"] for i in r["issues"]] for r in out["results"]}
    assert by_line == {f"{f}:2": ["json_invalid"], f"{f}:3": ["record_invalid"], f"{f}:4": ["tool_schema_invalid"],
                       f"{f}:5": ["arg_enum"], f"{f}:7": ["record_invalid"]}
    summary = out["summary"]["schema"]
    assert summary["records"] == 6 and summary["ok"] == 1 and summary["failed"] == 5
    # the text form: one line per issue, then the table of counts
    text = run_cli("validate", f)
    assert text.returncode == 1
    assert f"{f}:5" in text.stdout and "arg_enum" in text.stdout and "json_invalid" in text.stdout


def test_stdin_works(run_cli, sample_path):
    proc = run_cli("validate", "-", "--json", input=sample_path.read_text())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["schema"]["records"] == 8


@pytest.mark.parametrize("args", [
    ("validate", "missing.jsonl"),
    ("validate", "x.jsonl", "--db", "x.duckdb"),
    ("validate", "--db", "no-such-store.duckdb"),
    ("validate", "--status", "shiny", "--db", "no-such-store.duckdb"),
    ("validate", "--bogus-option"),
])
def test_usage_errors_exit_2(run_cli, args, tmp_path):
    (tmp_path / "x.jsonl").write_text("{}\n")
    proc = run_cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


def test_store_results_are_stored_and_replaced(run_cli, filled_db, tmp_path):
    proc = run_cli("validate", "--db", filled_db, "--json")
    assert proc.returncode == 0, proc.stderr
    bad = Record.model_validate(R.with_args({"city": "Oslo", "days": "3"}))
    with open_store(filled_db) as store:
        store.upsert_records([bad], source="test")
    proc = run_cli("validate", "--db", filled_db, "--json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["summary"]["schema"] == {"stage": "schema", "records": 9, "ok": 8, "failed": 1, "warnings": 0,
                                        "issues": 1, "codes": {"arg_type": 1}}
    con = duckdb.connect(str(filled_db), read_only=True)
    rows = con.execute("SELECT record_id, stage, code, path FROM issues").fetchall()
    assert rows == [(bad.id, "schema", "arg_type", "messages[2].tool_calls[0].function.arguments.days")]
    assert con.execute("SELECT count(*), count(*) FILTER (WHERE ok) FROM validations WHERE stage='schema'").fetchone() == (9, 8)
    con.close()
    shown = json.loads(run_cli("show", bad.id, "--db", filled_db, check=True).stdout)
    assert shown["issues"][0]["code"] == "arg_type"
    # re-validating replaces, never duplicates
    run_cli("validate", "--db", filled_db)
    con = duckdb.connect(str(filled_db), read_only=True)
    assert con.execute("SELECT count(*) FROM issues").fetchone() == (1,)
    con.close()
    valid = json.loads(run_cli("list", "--db", filled_db, "--status", "invalid", "--json", check=True).stdout)
    assert [r["id"] for r in valid] == [bad.id]


def test_execute_catches_a_wrong_calculation(run_cli, sample_dicts, tmp_path):
    heavy = next(d for d in sample_dicts if d["scenario"] == "reasoning_heavy")
    wrong = json.loads(json.dumps(heavy))
    tool_msg = next(m for m in wrong["messages"] if m["role"] == "tool")
    tool_msg["content"] = '{"result": 3189.83}'
    f = _write(tmp_path / "calc.jsonl", [heavy, wrong])
    proc = run_cli("validate", f, "--execute", "--json")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    # the answer (3289.83) no longer matches the stored result: the grounding check sees it without running anything
    assert out["summary"]["schema"]["failed"] == 1 and out["summary"]["schema"]["codes"]["answer_ungrounded"] == 1
    assert out["summary"]["execution"]["failed"] == 1
    grounding, res = out["results"]
    assert grounding["where"].startswith(f"{f}:2") and "3289.83" in grounding["issues"][0]["message"]
    assert res["where"].startswith(f"{f}:2") and res["issues"][0]["code"] == "exec_mismatch"
    assert "3289.83" in res["issues"][0]["message"]


def test_render_and_parse_round_trip(run_cli, sample_dicts):
    rec = next(d for d in sample_dicts if d["scenario"] == "multi_tool_parallel")
    for family in ("hermes", "mistral", "pythonic"):
        text = run_cli("render", "--family", family, input=json.dumps(rec), check=True).stdout
        calls = json.loads(run_cli("parse", "--family", family, input=text, check=True).stdout)
        expected = [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                    for m in rec["messages"] for c in m.get("tool_calls") or []]
        assert calls == expected


def test_parse_edge_cases(run_cli):
    none = run_cli("parse", "--family", "hermes", input="Just an answer.")
    assert none.returncode == 0 and json.loads(none.stdout) == []
    bad = run_cli("parse", "--family", "hermes", input="<tool_call>{oops}</tool_call>")
    assert bad.returncode == 2 and bad.stderr.startswith("error:")
    unknown = run_cli("parse", "--family", "klingon", input="x")
    assert unknown.returncode == 2 and "hermes" in unknown.stderr
    notrec = run_cli("render", "--family", "hermes", input='{"messages": "nope"}')
    assert notrec.returncode == 2 and notrec.stderr.startswith("error:")


def test_judge_with_the_packaged_model_stores_verdicts(run_cli, sample_dicts, tmp_path):
    """A real judge: SmolLM2-135M in-process through the llamacpp: backend, grammar-constrained verdicts.

    The model is tiny, so the test checks what must hold whatever it decides: every record gets a
    stored verdict with a reason, the summary counts them, and the exit status follows the verdicts.
    """
    two = [d for d in sample_dicts if d["scenario"] in ("single_tool", "no_tool_needed")][:2]
    f = _write(tmp_path / "two.jsonl", two)
    db = tmp_path / "judge.duckdb"
    run_cli("import", f, "--db", db, check=True)
    proc = run_cli("validate", "--db", db, "--judge", "llamacpp:smollm2", "--json", timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    out = json.loads(proc.stdout)
    judge = out["summary"]["judge"]
    assert judge["records"] == 2 and judge["ok"] + judge["failed"] == 2
    assert proc.returncode == (1 if judge["failed"] else 0)
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT judge, verdict, reason FROM judge_verdicts").fetchall()
    con.close()
    assert len(rows) == 2
    for judge_spec, verdict, reason in rows:
        assert judge_spec == "llamacpp:smollm2"
        assert verdict in ("pass", "fail"), reason  # the grammar makes the reply readable
        assert reason.strip()
