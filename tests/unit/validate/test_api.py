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
