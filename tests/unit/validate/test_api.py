"""The published toolforge.validate API: clean samples pass, compile-once cache, BFCL dialect."""

from __future__ import annotations

import copy

from toolforge.record import Record
from toolforge.validate import Issue, RecordValidator, bfcl_to_jsonschema, validate_record


def test_sample_records_of_all_scenarios_are_clean(sample_dicts):
    assert {d["scenario"] for d in sample_dicts} >= {
        "single_tool", "multi_tool_parallel", "multi_tool_sequential", "no_tool_needed",
        "error_recovery", "reasoning_heavy", "complex_multi_step"}
    for d in sample_dicts:
        assert validate_record(d) == [], d["scenario"]
        assert validate_record(Record.model_validate(d)) == []


def test_validator_compiles_each_tool_once(sample_dicts):
    v = RecordValidator()
    for _ in range(5):
        for d in sample_dicts:
            v.validate(copy.deepcopy(d))
    distinct = {repr(t) for d in sample_dicts for t in d["tools"]}
    assert v.compiled_count == len(distinct)


def test_issue_is_typed():
    d = {"messages": [{"role": "user", "content": "hi"}]}
    issues = validate_record(d)
    assert all(isinstance(i, Issue) for i in issues)
    assert [i.code for i in issues] == ["role_order"]
    assert issues[0].severity == "error"


def test_bfcl_dialect_maps_types():
    params = {"type": "dict", "properties": {
        "a": {"type": "float"}, "b": {"type": "tuple", "items": {"type": "integer"}},
        "c": {"type": "any", "description": "x"}, "d": {"type": "dict", "properties": {"e": {"type": "float"}}},
        "f": {"type": "array", "items": {"type": "dict", "properties": {}}}, "g": {"type": "string", "optional": True}},
        "required": ["a"]}
    out = bfcl_to_jsonschema(params)
    assert out["type"] == "object"
    assert out["properties"]["a"] == {"type": "number"}
    assert out["properties"]["b"] == {"type": "array", "items": {"type": "integer"}}
    assert out["properties"]["c"] == {"description": "x"}
    assert out["properties"]["d"]["properties"]["e"] == {"type": "number"}
    assert out["properties"]["f"]["items"]["type"] == "object"
    assert out["properties"]["g"] == {"type": "string"}
    assert params["type"] == "dict"  # input untouched


def test_bfcl_array_enum_moves_to_items():
    out = bfcl_to_jsonschema({"type": "dict", "properties": {"m": {"type": "array", "items": {"type": "string"},
                                                                  "enum": ["a", "b"]}}})
    assert out["properties"]["m"] == {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}


def test_bfcl_reconcile_applies_the_answer_key_rules_only_where_needed():
    from toolforge.validate.dialect import bfcl_reconcile

    schema = bfcl_to_jsonschema({"type": "dict", "properties": {
        "flag": {"type": "string", "enum": ["True", "False"]}, "n": {"type": "integer"},
        "eff": {"type": "float"}}, "required": ["flag", "n", "eff"]})
    answer = {"flag": [True], "n": [3], "eff": ["", 25.0]}
    args = {"flag": True, "n": 3}
    out = bfcl_reconcile(schema, answer, args)
    assert out["properties"]["flag"] == {"type": ["string", "boolean"]}
    assert out["properties"]["n"] == {"type": "integer"}          # untouched: the answer fits the doc
    assert out["required"] == ["flag", "n"]                        # "" acceptable: may be left out
    assert schema["required"] == ["flag", "n", "eff"]              # the input is not modified
