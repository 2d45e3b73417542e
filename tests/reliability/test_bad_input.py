"""Bad input: every malformed input gets a one-line error, a non-zero exit, no traceback,
and leaves the store exactly as it was (``store_digest``: a hash of every table's rows).

Each case builds its files in a scratch folder and returns the CLI arguments; the
store it may touch is a copy of the sample store. The README's "Guarantees" section
quotes ``len(CASES)``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.helpers import store_digest

SAMPLE = [json.loads(line) for line in (EXAMPLES / "sample.jsonl").read_text().splitlines() if line.strip()]


def _rec(**changes) -> dict:
    rec = copy.deepcopy(SAMPLE[0])
    rec.update(changes)
    return rec


def _jsonl(tmp: Path, name: str, lines: list) -> Path:
    p = tmp / name
    with p.open("wb") as fh:
        for line in lines:
            fh.write(line if isinstance(line, bytes) else (line if isinstance(line, str) else json.dumps(line)).encode())
            fh.write(b"\n")
    return p


def _file(tmp: Path, name: str, data: str | bytes) -> Path:
    p = tmp / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


def _catalog(tmp: Path, tools) -> Path:
    return _file(tmp, "catalog.json", json.dumps({"name": "bad", "tools": tools}))


def _good_tool(name="lookup"):
    return {"type": "function", "function": {"name": name, "description": "d",
                                             "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}


def _recipe(tmp: Path, text: str | bytes) -> Path:
    return _file(tmp, "recipe.yaml", text)


Case = Callable[[Path, Path], list]

GOOD = """name: x
generate:
  scenarios: {single_tool: 2}
  catalogs: [smol-tools]
  teacher: "fake:"
  seed: 1
"""

CASES: dict[str, Case] = {
    # --- import: files and lines ------------------------------------------------------------
    "import-missing-file": lambda t, db: ["import", t / "nope.jsonl", "--db", db],
    "import-folder": lambda t, db: ["import", t, "--db", db],
    "import-non-utf8-line": lambda t, db: ["import", _jsonl(t, "a.jsonl", [SAMPLE[1], b"\xff\xfe{\"x\": 1}"]), "--db", db],
    "import-non-json-line": lambda t, db: ["import", _jsonl(t, "a.jsonl", [SAMPLE[1], "{'single': 'quotes'}"]), "--db", db],
    "import-huge-line": lambda t, db: ["import", _jsonl(t, "a.jsonl", [SAMPLE[1], b'{"x": "' + b"a" * (17 * 1024 * 1024) + b'"}']), "--db", db],
    "import-json-array-line": lambda t, db: ["import", _jsonl(t, "a.jsonl", [SAMPLE[1], [1, 2, 3]]), "--db", db],
    "import-no-messages": lambda t, db: ["import", _jsonl(t, "a.jsonl", [{k: v for k, v in SAMPLE[2].items() if k != "messages"}]), "--db", db],
    "import-empty-messages": lambda t, db: ["import", _jsonl(t, "a.jsonl", [_rec(messages=[])]), "--db", db],
    "import-unknown-key": lambda t, db: ["import", _jsonl(t, "a.jsonl", [_rec(colour="blue")]), "--db", db],
    "import-wrong-type-messages": lambda t, db: ["import", _jsonl(t, "a.jsonl", [_rec(messages="hello")]), "--db", db],
    "import-unknown-role": lambda t, db: ["import", _jsonl(t, "a.jsonl", [_rec(messages=[{"role": "wizard", "content": "hi"}])]), "--db", db],
    "import-unknown-scenario-in-record": lambda t, db: ["import", _jsonl(t, "a.jsonl", [_rec(scenario="time_travel")]), "--db", db],
    "import-arguments-bad-json-string": lambda t, db: ["import", _jsonl(t, "a.jsonl", [_rec(messages=[
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{city:"}}]}])]), "--db", db],
    "import-unknown-format": lambda t, db: ["import", EXAMPLES / "sample.jsonl", "--format", "parquet-ish", "--db", db],
    "import-unknown-scenario-option": lambda t, db: ["import", EXAMPLES / "sample.jsonl", "--scenario", "time_travel", "--db", db],
    "import-into-truncated-duckdb": lambda t, db: ["import", EXAMPLES / "sample.jsonl", "--db", _truncated(t, db, 0.5)],
    "import-into-duckdb-cut-in-header": lambda t, db: ["import", EXAMPLES / "sample.jsonl", "--db", _truncated(t, db, 5000)],
    "import-db-in-missing-folder": lambda t, db: ["import", EXAMPLES / "sample.jsonl", "--db", t / "no" / "such" / "dir" / "s.duckdb"],
    # --- list / show ---------------------------------------------------------------------------
    "list-unknown-status": lambda t, db: ["list", "--status", "shiny", "--db", db],
    "list-unknown-scenario": lambda t, db: ["list", "--scenario", "time_travel", "--db", db],
    "list-zero-limit": lambda t, db: ["list", "--limit", "0", "--db", db],
    "list-truncated-duckdb": lambda t, db: ["list", "--db", _truncated(t, db, 0.2)],
    "list-duckdb-cut-in-header": lambda t, db: ["list", "--db", _truncated(t, db, 10000)],
    "list-text-file-as-db": lambda t, db: ["list", "--db", _file(t, "notes.duckdb", "just some text\n" * 100)],
    "show-unknown-id": lambda t, db: ["show", "b2:doesnotexist", "--db", db],
    # --- tools / catalogs ----------------------------------------------------------------------
    "tools-validate-not-json": lambda t, db: ["tools", "validate", _file(t, "c.json", "{tools: [")],
    "tools-validate-not-utf8": lambda t, db: ["tools", "validate", _file(t, "c.json", b'{"tools": ["\xff"]}')],
    "tools-validate-invalid-schema": lambda t, db: ["tools", "validate", _catalog(t, [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "objekt", "properties": 3}}}])],
    "tools-validate-duplicate-names": lambda t, db: ["tools", "validate", _catalog(t, [_good_tool("same"), _good_tool("same")])],
    "tools-validate-bad-name": lambda t, db: ["tools", "validate", _catalog(t, [_good_tool("rm -rf /; echo")])],
    "tools-list-unknown-catalog": lambda t, db: ["tools", "list", "--catalog", "no-such-catalog"],
    "tools-show-unknown-tool": lambda t, db: ["tools", "show", "launch_rockets"],
    # --- run: recipe files and options --------------------------------------------------------
    "run-missing-recipe": lambda t, db: ["run", t / "nope.yaml", "--db", db],
    "run-recipe-not-yaml": lambda t, db: ["run", _recipe(t, "name: [unclosed\n  generate: {"), "--db", db],
    "run-recipe-not-utf8": lambda t, db: ["run", _recipe(t, b"name: caf\xe9\n"), "--db", db],
    "run-recipe-a-list": lambda t, db: ["run", _recipe(t, "- generate\n- export\n"), "--db", db],
    "run-unknown-stage": lambda t, db: ["run", _recipe(t, "name: x\n"), "--from", "polish", "--db", db],
    "run-from-after-until": lambda t, db: ["run", _recipe(t, "name: x\n"), "--from", "export", "--until", "generate", "--db", db],
    "run-negative-scale": lambda t, db: ["run", _recipe(t, "name: x\n"), "--scale", "-1", "--db", db],
    "run-scale-and-count": lambda t, db: ["run", _recipe(t, GOOD), "--scale", "0.5", "--count", "3", "--db", db],
    # --- run: recipes that parse but are wrong (checked before the store is touched) ----------
    "run-recipe-unknown-key": lambda t, db: ["run", _recipe(t, GOOD + "colour: blue\n"), "--db", db],
    "run-recipe-wrong-type": lambda t, db: ["run", _recipe(t, GOOD.replace("seed: 1", "seed: lots")), "--db", db],
    "run-recipe-missing-generate": lambda t, db: ["run", _recipe(t, "name: x\n"), "--db", db],
    "run-recipe-unknown-scenario": lambda t, db: ["run", _recipe(t, GOOD.replace("single_tool", "time_travel")), "--db", db],
    "run-recipe-unknown-export-format": lambda t, db: ["run", _recipe(t, GOOD + "export: {formats: [parquet-ish]}\n"), "--db", db],
    "run-recipe-unknown-dedup-method": lambda t, db: ["run", _recipe(t, GOOD + "dedup: {methods: [fuzzy]}\n"), "--db", db],
    "run-recipe-path-outside-working-folder": lambda t, db: ["run", _recipe(t, GOOD + "export: {out: ../../../../../etc/tf}\n"), "--db", db],
    "run-recipe-catalog-invalid-schema": lambda t, db: ["run", _recipe(t, GOOD.replace("[smol-tools]", f"[{_catalog(t, [{'type': 'function', 'function': {'name': 'f', 'parameters': {'type': 'objekt'}}}])}]")), "--db", db],
    "run-recipe-unknown-teacher": lambda t, db: ["run", _recipe(t, GOOD.replace('"fake:"', "gpt9:big")), "--db", db],
    "run-recipe-zero-records": lambda t, db: ["run", _recipe(t, GOOD.replace("single_tool: 2", "single_tool: 0")), "--db", db],
    "run-recipe-bad-push-repo": lambda t, db: ["run", _recipe(t, GOOD + "push: {repo: 'not a repo id'}\n"), "--db", db],
}

# What each case's one-line error must say (so a case cannot pass by failing for another reason).
EXPECT: dict[str, str] = {
    'run-scale-and-count': 'not both',
    'run-recipe-bad-push-repo': 'invalid repo id',
    'run-recipe-catalog-invalid-schema': 'parameters must be',
    'run-recipe-missing-generate': 'generate: Field required',
    'run-recipe-path-outside-working-folder': 'outside the working folder',
    'run-recipe-unknown-dedup-method': 'dedup.methods',
    'run-recipe-unknown-export-format': 'unknown export format',
    'run-recipe-unknown-key': 'colour: unknown key',
    'run-recipe-unknown-scenario': 'time_travel',
    'run-recipe-unknown-teacher': 'unknown teacher backend',
    'run-recipe-wrong-type': 'generate.seed',
    'run-recipe-zero-records': 'no scenario to generate',
    'import-arguments-bad-json-string': 'arguments is not valid JSON',
    'import-db-in-missing-folder': 'does not exist',
    'import-empty-messages': 'messages',
    'import-folder': 'is a folder',
    'import-huge-line': 'byte limit',
    'import-into-duckdb-cut-in-header': 'store',
    'import-into-truncated-duckdb': 'store',
    'import-json-array-line': 'a.jsonl:2',
    'import-missing-file': 'not found',
    'import-no-messages': 'messages',
    'import-non-json-line': 'not JSON',
    'import-non-utf8-line': 'not UTF-8',
    'import-unknown-format': "'parquet-ish' is not one of 'toolforge'",
    'import-unknown-key': 'colour',
    'import-unknown-role': 'role',
    'import-unknown-scenario-in-record': 'scenario',
    'import-unknown-scenario-option': 'time_travel',
    'import-wrong-type-messages': 'messages',
    'list-duckdb-cut-in-header': 'store',
    'list-text-file-as-db': 'store',
    'list-truncated-duckdb': 'store',
    'list-unknown-scenario': 'time_travel',
    'list-unknown-status': 'status',
    'list-zero-limit': '--limit',
    'run-from-after-until': 'comes after',
    'run-missing-recipe': 'recipe not found',
    'run-negative-scale': '--scale',
    'run-recipe-a-list': 'must be a YAML mapping',
    'run-recipe-not-utf8': 'not UTF-8',
    'run-recipe-not-yaml': 'not valid YAML',
    'run-unknown-stage': "Invalid value for '--from': 'polish' is not one of 'generate'",
    'show-unknown-id': 'no record',
    'tools-list-unknown-catalog': 'unknown catalog',
    'tools-show-unknown-tool': 'no tool named',
    'tools-validate-bad-name': 'not identifier-like',
    'tools-validate-duplicate-names': 'duplicate tool name',
    'tools-validate-invalid-schema': 'parameters must be',
    'tools-validate-not-json': 'not JSON',
    'tools-validate-not-utf8': 'not UTF-8',
}


def _truncated(tmp: Path, db: Path, cut: float | int) -> Path:
    """A copy of the store cut short (a fraction or a byte count): what an interrupted copy leaves."""
    data = db.read_bytes()
    p = tmp / "truncated.duckdb"
    p.write_bytes(data[: int(len(data) * cut) if isinstance(cut, float) else cut])
    return p


def test_there_are_at_least_30_cases():
    assert len(CASES) >= 30
    assert set(EXPECT) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_error_and_store_unchanged(name, run_cli, filled_db, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    before = store_digest(filled_db)
    args = CASES[name](scratch, filled_db)
    side_files = {p: p.read_bytes() for p in scratch.rglob("*") if p.is_file() and p.suffix == ".duckdb"}
    proc = run_cli(*args)
    assert proc.returncode != 0, f"{name}: exit 0\nstdout={proc.stdout}\nstderr={proc.stderr}"
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error: "), f"{name}: {proc.stderr!r}"
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), f"{name}: more than a one-line error: {proc.stderr!r}"
    assert len([line for line in lines if line.startswith("error: ")]) == 1
    assert EXPECT[name] in lines[0], f"{name}: expected {EXPECT[name]!r} in {lines[0]!r}"
    assert len(lines[0]) < 400, f"{name}: error line is {len(lines[0])} characters"
    assert store_digest(filled_db) == before, f"{name}: the store changed"
    for p, data in side_files.items():
        assert p.read_bytes() == data, f"{name}: {p.name} was modified"
