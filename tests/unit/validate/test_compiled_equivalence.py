"""The compiled yes/no path (jsonschema-rs) and the store's plain-JSON path give the same issues as before,
record for record; and jsonschema-rs is right where Python jsonschema is not."""

from __future__ import annotations

import copy
import random

import pytest

from tests.unit.validate.test_fastcheck import SCHEMAS, VALUES, _instances
from toolforge.record import Record
from toolforge.validate import arguments
from toolforge.validate.arguments import compile_tool
from toolforge.validate.record_checks import RecordValidator


def test_jsonschema_rs_is_installed():  # the fast extra is part of `all`: a missing wheel must fail, not skip
    import jsonschema_rs  # noqa: F401

    assert compile_tool("t", {"type": "object", "properties": {}}).compiled is not None


def _mutants(sample_dicts, rng):
    """Every sample, plus copies with broken arguments: missing, extra, wrong type, bad enum, string for number."""
    out = [copy.deepcopy(d) for d in sample_dicts]
    for d in sample_dicts:
        tools = {t["function"]["name"]: t["function"].get("parameters", {}) for t in d["tools"]}
        for mi, m in enumerate(d["messages"]):
            for ci, c in enumerate(m.get("tool_calls") or []):
                schema = tools.get(c["function"]["name"], {})
                props = schema.get("properties", {})
                for how in ("drop_required", "extra", "wrong_type", "bad_enum", *["random"] * 6):
                    e = copy.deepcopy(d)
                    args = e["messages"][mi]["tool_calls"][ci]["function"]["arguments"]
                    if how == "drop_required" and schema.get("required"):
                        args.pop(schema["required"][0], None)
                    elif how == "extra":
                        args["surprise"] = 1
                    elif how == "wrong_type" and args:
                        k = rng.choice(sorted(args))
                        args[k] = [args[k]] if not isinstance(args[k], list) else {"x": 1}
                    elif how == "bad_enum":
                        for k, p in props.items():
                            if "enum" in p:
                                args[k] = "not-one-of-them"
                    else:
                        for k in list(props)[:3]:
                            args[k] = rng.choice(VALUES)
                    out.append(e)
    return out


def _issues(dicts, compiled: bool, monkeypatch):
    monkeypatch.setattr(arguments, "USE_COMPILED", compiled)
    v = RecordValidator()
    return [v.validate(copy.deepcopy(d)) for d in dicts]


def test_compiled_path_gives_the_same_issues_record_for_record(sample_dicts, monkeypatch):
    corpus = _mutants(sample_dicts, random.Random(3))
    before = _issues(corpus, False, monkeypatch)
    after = _issues(corpus, True, monkeypatch)
    assert len(corpus) > 100 and sum(1 for x in before if x) > 50  # most mutants are caught
    assert after == before


@pytest.mark.parametrize("schema", SCHEMAS)
def test_compiled_path_agrees_with_python_on_argument_issues(schema, monkeypatch):
    insts = _instances(random.Random(7), sorted(schema.get("properties", {})) + ["zz"], n=200)
    monkeypatch.setattr(arguments, "USE_COMPILED", False)
    slow = compile_tool("t", schema)
    monkeypatch.setattr(arguments, "USE_COMPILED", True)
    fast = compile_tool("t", schema)
    assert fast.compiled is not None and slow.compiled is None
    for x in insts:
        assert fast.check(x, "args") == slow.check(x, "args"), x


def test_compiled_path_is_right_where_python_is_not():
    tool = compile_tool("t", {"type": "object", "properties": {
        "step": {"type": "number", "multipleOf": 0.1},
        "name": {"type": "string", "pattern": "^\\p{L}+$"}}})
    assert tool.check({"step": 0.3}, "a") == []                # Python: 0.3 / 0.1 is not an integer
    assert tool.check({"name": "Zoë"}, "a") == []              # Python's re has no \p{L}
    bad = tool.check({"name": "Zoë1"}, "a")
    assert [i.code for i in bad] == ["arg_constraint"] and bad[0].path == "a.name"
    assert [i.code for i in tool.check({"step": 0.35}, "a")] == ["arg_constraint"]


def test_store_path_judges_stored_json_like_the_record_models(sample_dicts, tmp_path):
    from toolforge.store import open_store
    from toolforge.validate.run import iter_plain, validate_store

    recs = []
    for i, d in enumerate(_mutants(sample_dicts, random.Random(5))):
        d = copy.deepcopy(d)
        d["messages"][1]["content"] = f"{d['messages'][1].get('content') or ''} (case {i})"
        try:
            recs.append(Record.model_validate(d))
        except ValueError:
            continue
    with open_store(tmp_path / "s.duckdb") as store:
        store.upsert_records(recs, source="test")
        v = RecordValidator()
        expected = {r.id: v.validate(r) for r in store.iter_records()}   # the model path, as before
        plain = dict(iter_plain(store))
        assert plain.keys() == expected.keys()
        assert {rid: v.validate(d) for rid, d in plain.items()} == expected
        results: list = []
        summary = validate_store(store, results=results)
        assert summary.records == len(expected)
        assert dict(results) == {rid: iss for rid, iss in expected.items() if iss}
        stored = dict(store.con.execute("SELECT record_id, n_issues FROM validations").fetchall())
        assert stored == {rid: len(iss) for rid, iss in expected.items()}
