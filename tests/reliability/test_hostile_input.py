"""Hostile input where data enters: deep or huge JSON, pathological Python calls, ``$ref``
cycles, and values that are not JSON (NaN, Infinity, 1e999).

Every case runs the real CLI and asserts: the exit code, one ``error:`` line that names
the offending line (where there is one) and the issue code (``too_deep``, ``too_large``,
``json_invalid``), no traceback, and an unchanged store. ``--skip-invalid`` cases check
that the good lines around a hostile one are still stored.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.helpers import store_digest

SAMPLE = [json.loads(line) for line in (EXAMPLES / "sample.jsonl").read_text().splitlines() if line.strip()]
DEEP = 10_000


def deep_json(n: int = DEEP) -> str:
    return "[" * n + "]" * n


def call_record(arguments_json: str) -> str:
    """A record line (as text) whose single call carries ``arguments_json`` verbatim."""
    rec = copy.deepcopy(next(r for r in SAMPLE if r["scenario"] == "single_tool"))
    for m in rec["messages"]:
        for c in m.get("tool_calls") or []:
            c["function"]["arguments"] = {"__hole__": 0}
    text = json.dumps(rec)
    return text.replace('{"__hole__": 0}', arguments_json, 1)


def lines(tmp: Path, name: str, rows: list[str | dict]) -> Path:
    p = tmp / name
    p.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return p


def xlam_line(type_string: str, args: str = '{"x": [1]}') -> dict:
    return {"id": 1, "query": "q", "tools": json.dumps([{"name": "f", "description": "d",
                                                          "parameters": {"x": {"type": type_string}}}]),
            "answers": f'[{{"name": "f", "arguments": {args}}}]'}


def toolace_line(call_text: str) -> dict:
    system = 'Tools: [{"name": "f", "description": "d", "parameters": {"type": "dict", "properties": {"x": {"type": "integer"}}}}]'
    return {"system": system, "conversations": [{"from": "user", "value": "hi"},
                                                {"from": "assistant", "value": call_text}]}


def bfcl_dir(tmp: Path, params_json: str) -> Path:
    d = tmp / "bfcl"
    (d / "possible_answer").mkdir(parents=True)
    good = {"id": "simple_python_0", "question": [[{"role": "user", "content": "q"}]],
            "function": [{"name": "f", "description": "d", "parameters": {"type": "dict", "properties": {}}}]}
    bad = json.dumps({**good, "id": "simple_python_1"}).replace('"properties": {}', f'"properties": {params_json}', 1)
    (d / "BFCL_v4_simple_python.json").write_text(json.dumps(good) + "\n" + bad + "\n")
    (d / "possible_answer" / "BFCL_v4_simple_python.json").write_text(
        "".join(json.dumps({"id": f"simple_python_{i}", "ground_truth": [{"f": {}}]}) + "\n" for i in range(2)))
    return d


def catalog(tmp: Path, parameters: dict | str) -> Path:
    params = parameters if isinstance(parameters, str) else json.dumps(parameters)
    p = tmp / "catalog.json"
    p.write_text('{"name": "c", "tools": [{"type": "function", "function": {"name": "f", "description": "d", '
                 f'"parameters": {params}}}}}]}}')
    return p


GOOD = json.dumps(SAMPLE[1])
UNARY = "[f(x=" + "-" * 100_000 + "1)]"
ATTRS = "[" + "a." * 100_000 + "f(x=1)]"

# name -> (args builder, stdin or None, what the error line must contain)
Case = tuple[Callable[[Path, Path], list], str | None, list[str]]
CASES: dict[str, Case] = {
    # --- crashes on deep or huge input --------------------------------------------------------
    "import-deep-arguments": (lambda t, db: ["import", lines(t, "a.jsonl", [GOOD, call_record(deep_json())]), "--db", db],
                              None, ["a.jsonl:2", "[too_deep]"]),
    "import-deep-arguments-just-over-limit": (
        lambda t, db: ["import", lines(t, "a.jsonl", [GOOD, call_record('{"x": ' + deep_json(64) + "}")]), "--db", db],
        None, ["a.jsonl:2", "[too_deep]"]),
    "import-deep-wire-arguments-string": (
        lambda t, db: ["import", lines(t, "a.jsonl", [GOOD, call_record(json.dumps(deep_json()))]), "--db", db],
        None, ["a.jsonl:2", "[too_deep]"]),
    "import-xlam-deep-type-string": (
        lambda t, db: ["import", lines(t, "x.jsonl", [xlam_line("int"), xlam_line("List[" * 40 + "int" + "]" * 40)]),
                       "--format", "xlam", "--db", db],
        None, ["x.jsonl:2", "[too_deep]"]),
    "import-xlam-huge-type-string": (
        lambda t, db: ["import", lines(t, "x.jsonl", [xlam_line("List[" * DEEP + "int" + "]" * DEEP)]),
                       "--format", "xlam", "--db", db],
        None, ["x.jsonl:1", "[too_large]"]),
    "import-toolace-unary-minus": (
        lambda t, db: ["import", lines(t, "t.jsonl", [toolace_line("[f(x=1)]"), toolace_line(UNARY)]),
                       "--format", "toolace", "--db", db],
        None, ["t.jsonl:2", "[too_deep]"]),
    "import-toolace-attribute-chain": (
        lambda t, db: ["import", lines(t, "t.jsonl", [toolace_line(ATTRS)]), "--format", "toolace", "--db", db],
        None, ["t.jsonl:1", "[too_deep]"]),
    "parse-pythonic-unary-minus": (lambda t, db: ["parse", "--family", "pythonic"], UNARY, ["[too_deep]"]),
    "parse-pythonic-attribute-chain": (lambda t, db: ["parse", "--family", "pythonic"], ATTRS, ["[too_deep]"]),
    "parse-pythonic-deep-brackets": (lambda t, db: ["parse", "--family", "pythonic"], "[f(x=" + deep_json() + ")]",
                                     ["[too_deep]"]),
    "parse-hermes-deep-json": (lambda t, db: ["parse", "--family", "hermes"],
                               '<tool_call>{"name": "f", "arguments": {"x": ' + deep_json() + "}}</tool_call>",
                               ["[too_deep]"]),
    "parse-huge-output": (lambda t, db: ["parse", "--family", "xlam"], "x" * 1_100_000, ["[too_large]"]),
    "render-deep-record": (lambda t, db: ["render", "--family", "hermes"], call_record(deep_json()),
                           ["stdin line 1", "[too_deep]"]),
    "eval-deep-reference": (
        lambda t, db: ["eval", "--references", lines(t, "refs.jsonl", [GOOD, call_record(deep_json())]),
                       "--predictions", lines(t, "p.jsonl", [{"id": "x", "output": ""}]), "--family", "hermes"],
        None, ["line 2", "[too_deep]"]),
    "eval-deep-prediction": (
        lambda t, db: ["eval", "--references", lines(t, "refs.jsonl", [GOOD]),
                       "--predictions", lines(t, "p.jsonl", [{"id": "x", "output": ""},
                                                             '{"id": "y", "tool_calls": ' + deep_json() + "}"])],
        None, ["line 2", "[too_deep]"]),
    "eval-bfcl-deep-parameters": (
        lambda t, db: ["eval", "--bfcl", "--references", bfcl_dir(t, '{"x": ' + "{\"type\": \"dict\", \"properties\": {\"y\": " * 80 + "{}" + "}}" * 80 + "}"),
                       "--predictions", lines(t, "p.jsonl", [{"id": "simple_python_0", "tool_calls": []}])],
        None, ["BFCL_v4_simple_python.json:2", "[too_deep]"]),
    "tools-validate-ref-cycle": (
        lambda t, db: ["tools", "validate", catalog(t, {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}},
                                                        "$defs": {"A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
                                                                  "B": {"$ref": "#/$defs/A"}}})],
        None, ["$ref cycle"]),
    "tools-validate-deep-parameters": (
        lambda t, db: ["tools", "validate", catalog(t, '{"type": "object", "properties": {"a": ' + deep_json() + "}}")],
        None, ["[too_deep]"]),
    "generate-catalog-ref-cycle": (
        lambda t, db: ["generate", "--scenario", "single_tool", "--n", "1", "--teacher", "fake:", "--db", db,
                       "--catalog", catalog(t, {"type": "object", "properties": {"a": {"$ref": "#"}}})],
        None, ["$ref cycle"]),
    # --- values that are not JSON -------------------------------------------------------------
    "import-nan-argument": (lambda t, db: ["import", lines(t, "a.jsonl", [GOOD, call_record('{"x": NaN}')]), "--db", db],
                            None, ["a.jsonl:2", "[json_invalid]"]),
    "import-infinity-argument": (
        lambda t, db: ["import", lines(t, "a.jsonl", [call_record('{"x": -Infinity}')]), "--db", db],
        None, ["a.jsonl:1", "[json_invalid]"]),
    "import-overflowing-number": (
        lambda t, db: ["import", lines(t, "a.jsonl", [call_record('{"x": 1e999}')]), "--db", db],
        None, ["a.jsonl:1", "[json_invalid]"]),
    "import-nan-in-wire-arguments-string": (
        lambda t, db: ["import", lines(t, "a.jsonl", [call_record(json.dumps('{"x": NaN}'))]), "--db", db],
        None, ["a.jsonl:1", "json_invalid"]),
    "import-xlam-python-literal-1e999": (
        lambda t, db: ["import", lines(t, "x.jsonl", [xlam_line("float", "{'x': 1e999}").__or__(
            {"answers": "[{'name': 'f', 'arguments': {'x': 1e999}}]"})]), "--format", "xlam", "--db", db],
        None, ["x.jsonl:1", "json_invalid"]),
    "import-toolace-1e999": (
        lambda t, db: ["import", lines(t, "t.jsonl", [toolace_line("[f(x=1e999)]")]), "--format", "toolace", "--db", db],
        None, ["t.jsonl:1", "[json_invalid]"]),
    "parse-pythonic-1e999": (lambda t, db: ["parse", "--family", "pythonic"], "[f(x=1e999)]", ["[json_invalid]"]),
    "parse-hermes-nan": (lambda t, db: ["parse", "--family", "hermes"],
                         '<tool_call>{"name": "f", "arguments": {"x": NaN}}</tool_call>', ["[json_invalid]"]),
    "eval-nan-prediction-line": (
        lambda t, db: ["eval", "--references", lines(t, "refs.jsonl", [GOOD]),
                       "--predictions", lines(t, "p.jsonl", ['{"id": "x", "tool_calls": [{"name": "f", "arguments": {"a": NaN}}]}'])],
        None, ["line 1", "[json_invalid]"]),
    "render-nan-record": (lambda t, db: ["render", "--family", "hermes"], call_record('{"x": Infinity}'),
                          ["stdin line 1", "[json_invalid]"]),
    "tools-validate-nan-default": (
        lambda t, db: ["tools", "validate", catalog(t, '{"type": "object", "properties": {"a": {"type": "number", "default": NaN}}}')],
        None, ["[json_invalid]"]),
}


def test_every_class_has_cases():
    codes = " ".join(" ".join(c[2]) for c in CASES.values())
    assert "too_deep" in codes and "too_large" in codes and "json_invalid" in codes and "$ref cycle" in codes
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_one_line_error_with_code(name, run_cli, filled_db, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    before = store_digest(filled_db)
    build, stdin, expect = CASES[name]
    proc = run_cli(*build(scratch, filled_db), input=stdin, timeout=120)
    assert proc.returncode not in (0, None), f"{name}: exit {proc.returncode}\n{proc.stdout[:500]}\n{proc.stderr[:2000]}"
    assert proc.returncode < 128, f"{name}: killed by a signal ({proc.returncode})"
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr[-3000:]
    err = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(err) == 1, f"{name}: {proc.stderr[-2000:]!r}"
    for want in expect:
        assert want in err[0], f"{name}: expected {want!r} in {err[0]!r}"
    assert len(err[0]) < 400, f"{name}: error line is {len(err[0])} characters"
    assert store_digest(filled_db) == before, f"{name}: the store changed"


# --- the rest keeps going ------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [call_record(deep_json()), call_record('{"x": NaN}'), call_record('{"x": 1e999}'),
                                 '{"messages": ' + deep_json() + "}"])
def test_skip_invalid_keeps_the_good_lines_around_a_hostile_one(bad, run_cli, tmp_db, tmp_path):
    src = lines(tmp_path, "mixed.jsonl", [SAMPLE[0], bad, SAMPLE[1], SAMPLE[2]])
    proc = run_cli("import", src, "--db", tmp_db, "--skip-invalid", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["imported"] == 3 and summary["skipped"] == 1
    assert f"{src}:2: skipped:" in proc.stderr and ("[too_deep]" in proc.stderr or "[json_invalid]" in proc.stderr)
    exp = run_cli("list", "--db", tmp_db, "--json")
    assert exp.returncode == 0 and len(json.loads(exp.stdout)) == 3


def test_toolace_skip_invalid_goes_on_after_100000_unary_minus(run_cli, tmp_db, tmp_path):
    src = lines(tmp_path, "t.jsonl", [toolace_line("[f(x=1)]"), toolace_line(UNARY), toolace_line(ATTRS),
                                      toolace_line("[f(x=2)]")])
    proc = run_cli("import", src, "--format", "toolace", "--db", tmp_db, "--skip-invalid", "--json")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["imported"] == 2
    assert f"{src}:2: skipped:" in proc.stderr and f"{src}:3: skipped:" in proc.stderr


def test_validate_file_reports_a_deep_line_and_checks_the_rest(run_cli, tmp_path):
    src = lines(tmp_path, "v.jsonl", [SAMPLE[0], call_record(deep_json()), SAMPLE[1]])
    proc = run_cli("validate", src, "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    res = json.loads(proc.stdout)
    assert res["summary"]["schema"]["records"] == 3 and res["summary"]["schema"]["ok"] == 2
    (bad,) = res["results"]
    assert bad["where"] == f"{src}:2" and "[too_deep]" in bad["issues"][0]["message"]


def test_exports_never_write_nan(run_cli, filled_db, tmp_path):
    """NaN cannot enter (above); and the writers refuse it outright (allow_nan=False)."""
    from toolforge.io import safejson
    from toolforge.io.jsonl import write_jsonl

    with pytest.raises(ValueError):
        safejson.dumps({"x": math.nan})
    with pytest.raises(ValueError):
        write_jsonl(tmp_path / "x.jsonl", [{"x": math.inf}])
    out = tmp_path / "export"
    for fmt in ("openai", "sharegpt"):
        proc = run_cli("export", "--db", filled_db, "--format", fmt, "--status", "any", "--out", out / fmt)
        assert proc.returncode == 0, proc.stderr[-2000:]
        for f in (out / fmt).rglob("*.jsonl"):
            text = f.read_text()
            assert "NaN" not in text and "Infinity" not in text
            for line in text.splitlines():
                safejson.loads(line)  # every line is strict JSON


def _plant_deep_row(db, meta: str | None = None) -> tuple[str, int]:
    """Insert, as an older version could have, a copy of a record whose meta nests 3,000 deep
    (or holds ``meta`` as given)."""
    import duckdb

    con = duckdb.connect(str(db))
    cols = [r[0] for r in con.execute("DESCRIBE records").fetchall()]
    row = dict(zip(cols, con.execute("SELECT * FROM records LIMIT 1").fetchone(), strict=True))
    total = con.execute("SELECT count(*) FROM records").fetchone()[0]
    row["id"] = "b2:" + "0" * 32
    row["meta"] = meta or '{"x": ' + deep_json(3000) + "}"
    con.execute(f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", [row[c] for c in cols])
    con.close()
    return row["id"], total


def test_one_unreadable_stored_record_does_not_stop_validate(run_cli, filled_db):
    """A store written before the limits existed may hold a record nested 3,000 deep: validate
    reports that record (json_invalid, [too_deep]) and validates every other one."""
    rid, total = _plant_deep_row(filled_db)
    proc = run_cli("validate", "--db", filled_db, "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    res = json.loads(proc.stdout)
    assert res["summary"]["schema"]["records"] == total + 1
    bad = [r for r in res["results"] if r["where"] == rid]
    assert bad and bad[0]["issues"][0]["code"] == "json_invalid" and "[too_deep]" in bad[0]["issues"][0]["message"]


@pytest.mark.parametrize("command", [["list"], ["export", "--status", "any", "--format", "openai", "--out", "OUT"]])
def test_reading_a_stored_record_too_deep_is_a_one_line_error(command, run_cli, filled_db, tmp_path):
    rid, _ = _plant_deep_row(filled_db)
    before = store_digest(filled_db)
    proc = run_cli(*[str(tmp_path / "out") if a == "OUT" else a for a in command], "--db", filled_db)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    err = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert err == [f"error: stored record {rid}: stored JSON nested deeper than 64 levels [too_deep]"]
    assert store_digest(filled_db) == before


@pytest.mark.parametrize("command", [["validate", "--json"], ["export", "--status", "any", "--format", "openai", "--out", "OUT"]])
def test_nan_in_a_store_from_an_older_version_is_never_exported(command, run_cli, filled_db, tmp_path):
    """Python writes a non-finite float as the token NaN; a store written before records refused
    them can hold one. Export refuses with one line naming the record; validate reports it."""
    rid, _ = _plant_deep_row(filled_db, meta='{"score": NaN}')
    proc = run_cli(*[str(tmp_path / "out") if a == "OUT" else a for a in command], "--db", filled_db)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    if command[0] == "export":
        assert proc.returncode == 2
        assert proc.stderr.splitlines()[0] == f"error: stored record {rid}: stored JSON is not readable: NaN is not a JSON number [json_invalid]"
        assert not any(p.suffix == ".jsonl" for p in (tmp_path / "out").rglob("*")) if (tmp_path / "out").exists() else True
    else:
        assert proc.returncode == 1
        bad = [r for r in json.loads(proc.stdout)["results"] if r["where"] == rid]
        assert bad and "[json_invalid]" in bad[0]["issues"][0]["message"]
