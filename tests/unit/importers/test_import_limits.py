"""Importers behind the boundary guard: a hostile line becomes a ConversionError with its code."""

from __future__ import annotations

import json

import pytest

from toolforge.importers import ConversionError, get_converter
from toolforge.importers.xlam import MAX_TYPE_DEPTH, parse_type


def _xlam(type_string: str, answers: str = '[{"name": "f", "arguments": {"x": 1}}]') -> dict:
    return {"query": "q", "tools": json.dumps([{"name": "f", "description": "", "parameters": {"x": {"type": type_string}}}]),
            "answers": answers}


def test_xlam_type_strings_nest_to_a_limit_without_recursing():
    assert parse_type("List[" * MAX_TYPE_DEPTH + "int" + "]" * MAX_TYPE_DEPTH, [])[0]["type"] == "array"
    with pytest.raises(ValueError, match="too_deep"):
        parse_type("List[" * (MAX_TYPE_DEPTH + 2) + "int" + "]" * (MAX_TYPE_DEPTH + 2), [])
    with pytest.raises(ValueError, match="too_large"):
        parse_type("List[" * 10_000 + "int" + "]" * 10_000, [])


@pytest.mark.parametrize(("fmt", "value", "code"), [
    ("xlam", _xlam("Dict[str, " * 40 + "int" + "]" * 40), "too_deep"),
    ("xlam", _xlam("int", '[{"name": "f", "arguments": {"x": NaN}}]'), "json_invalid"),
    ("xlam", _xlam("int", "[{'name': 'f', 'arguments': {'x': 1e999}}]"), "json_invalid"),
    ("toolace", {"system": "", "conversations": [{"from": "user", "value": "q"},
                                                 {"from": "assistant", "value": "[f(x=" + "-" * 100_000 + "1)]"}]}, "too_deep"),
    ("toolace", {"system": "", "conversations": [{"from": "user", "value": "q"},
                                                 {"from": "assistant", "value": "[" + "a." * 50_000 + "f(x=1)]"}]}, "too_deep"),
    ("hermes", {"conversations": [{"from": "human", "value": "q"},
                                  {"from": "gpt", "value": '<tool_call>{"name": "f", "arguments": ' + "[" * 5000 + "]" * 5000 + "}</tool_call>"}]},
     "too_deep"),
])
def test_hostile_values_become_conversion_errors_with_a_code(fmt, value, code):
    with pytest.raises(ConversionError, match=code):
        get_converter(fmt)(value)


def test_catalog_ref_cycles_and_dangling_refs():
    from toolforge.catalog import check_tools, ref_cycle

    ok = {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}, "b": {"$ref": "#/$defs/A"}},
          "$defs": {"A": {"type": "string"}}}
    assert ref_cycle(ok) is None
    assert "cycle" in ref_cycle({"type": "object", "properties": {"n": {"$ref": "#"}}})
    assert "cycle" in ref_cycle({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}},
                                 "$defs": {"A": {"type": "array", "items": {"$ref": "#/$defs/B"}},
                                           "B": {"type": "object", "properties": {"x": {"$ref": "#/$defs/A"}}}}})
    assert "points to nothing" in ref_cycle({"type": "object", "properties": {"a": {"$ref": "#/$defs/Nope"}}})
    problems = check_tools([{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"n": {"$ref": "#/properties/n"}}}}}])
    assert len(problems) == 1 and "$ref cycle" in problems[0].message
