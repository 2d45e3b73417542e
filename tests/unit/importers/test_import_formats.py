"""Converters for public dataset formats, on hand-written samples in each source format."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from toolforge.importers import FORMATS, ConversionError, get_converter
from toolforge.importers.xlam import parse_type
from toolforge.validate import validate_record

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "import_samples"
CALL_ONLY_CODES = {"missing_tool_result", "role_order"}   # the source has no tool results / final answers


def convert_file(fmt: str, name: str):
    mod = importlib.import_module(FORMATS[fmt])
    path = SAMPLES / name
    conv = mod.bind_source(path) if hasattr(mod, "bind_source") else get_converter(fmt)
    return [conv(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def errors(rec):
    return [i for i in validate_record(rec) if i.severity == "error"]


def calls(rec):
    return [(c.name, c.arguments) for c in rec.calls]


@pytest.mark.parametrize("fmt,name,scenarios", [
    ("hermes", "hermes.jsonl", ["single_tool", "multi_tool_parallel", "no_tool_needed"]),
    ("glaive", "glaive.jsonl", ["single_tool", "no_tool_needed"]),
    ("sharegpt", "sharegpt.jsonl", ["single_tool", "multi_tool_parallel"]),
    ("toolace", "toolace.jsonl", ["multi_tool_parallel", "no_tool_needed"]),
])
def test_full_conversations_convert_and_validate(fmt, name, scenarios):
    recs = convert_file(fmt, name)
    assert [r.scenario for r in recs] == scenarios
    for r in recs:
        assert errors(r) == [], (fmt, r.id, errors(r))
        assert r.meta["source_format"] == fmt
        assert r.final_answer


@pytest.mark.parametrize("fmt,name,scenarios", [
    ("xlam", "xlam.jsonl", ["single_tool", "multi_tool_parallel", "single_tool"]),
    ("bfcl", "bfcl/BFCL_v4_sample.json", ["single_tool", "multi_tool_parallel", "single_tool", "no_tool_needed"]),
])
def test_call_only_sources_validate_except_for_the_missing_results(fmt, name, scenarios):
    recs = convert_file(fmt, name)
    assert [r.scenario for r in recs] == scenarios
    for r in recs:
        codes = {i.code for i in errors(r)}
        if r.calls:
            assert codes == CALL_ONLY_CODES, (r.id, errors(r))
            assert r.meta["call_only"] is True
        else:
            assert codes == set()


def test_hermes_calls_results_and_tools():
    h1, h2, h3 = convert_file("hermes", "hermes.jsonl")
    assert h1.tool_names == ["get_stock_price"]       # from the system prompt's <tools> (a Python literal)
    assert [m.role for m in h1.messages] == ["user", "assistant", "tool", "assistant"]
    assert calls(h1) == [("get_stock_price", {"symbol": "TSLA"})]
    assert json.loads(h1.messages[2].content) == {"symbol": "TSLA", "price": 251.3}
    assert h1.meta["category"] == "Finance"
    assert calls(h2) == [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Rome"})]
    assert [m.tool_call_id for m in h2.messages if m.role == "tool"] == ["call_1", "call_2"]
    assert h3.calls == [] and h3.tool_names == ["get_stock_price"]


def test_glaive_single_quoted_arguments_and_no_call():
    g1, g2 = convert_file("glaive", "glaive.jsonl")
    assert calls(g1) == [("convert_currency", {"amount": 100, "from_currency": "USD", "to_currency": "EUR"})]
    assert g1.messages[0].role == "system" and "{" not in g1.messages[0].content
    assert json.loads(g1.messages[3].content)["converted_amount"] == 92.5
    assert g2.tool_names == ["convert_currency", "get_news"] and g2.calls == []


def test_sharegpt_parallel_calls_get_one_result_each():
    _, s2 = convert_file("sharegpt", "sharegpt.jsonl")
    results = [json.loads(m.content) for m in s2.messages if m.role == "tool"]
    assert results == [{"time": "21:04"}, {"time": "07:04"}]


def test_toolace_pythonic_calls_with_spaced_names_and_bfcl_dialect():
    t1, _ = convert_file("toolace", "toolace.jsonl")
    assert calls(t1) == [("Get Recipe", {"dish": "pancakes", "servings": 4}),
                         ("Unit Converter", {"value": 250.0, "from_unit": "g", "to_unit": "oz"})]
    params = t1.tool("Unit Converter").function.parameters
    assert params["type"] == "object" and params["properties"]["value"]["type"] == "number"
    assert "Here is a list of functions" in t1.messages[0].content and "[{" not in t1.messages[0].content


def test_xlam_type_strings_map_to_json_schema():
    x1, x2, x3 = convert_file("xlam", "xlam.jsonl")
    p1 = x1.tool("weather_forecast").function.parameters
    assert p1["properties"]["days"] == {"type": "integer", "description": "Number of forecast days.", "default": 1}
    assert p1["required"] == ["city"]   # "int, optional" (and anything with a default) may be left out
    p2 = x2.tool("find_user").function.parameters
    assert p2["required"] == ["login"]   # Optional[str]; Dict[str, Any] with a default
    assert p2["properties"]["department"]["type"] == "string"
    assert p2["properties"]["filters"]["type"] == "object"
    assert x2.tool("sum_numbers").function.parameters["properties"]["numbers"]["items"] == {"type": "integer"}
    p3 = x3.tool("move_arm").function.parameters
    assert p3["properties"]["target"]["prefixItems"] == [{"type": "integer"}, {"type": "integer"}]
    assert p3["properties"]["speed"]["type"] == ["integer", "number"]
    assert p3["properties"]["on_done"] == {"description": "Callback when done.", "default": None}
    assert any("Callable" in n for n in x3.meta["import_notes"])   # reported, not dropped silently
    # the mapped schema is a real constraint: a wrong-typed argument is caught by the validator
    bad = x2.to_dict()
    bad["messages"][1]["tool_calls"][0]["function"]["arguments"] = {"numbers": ["one", 2]}
    assert "arg_type" in {i.code for i in validate_record(bad)}


def test_xlam_empty_answers_is_a_no_tool_record_that_validates():
    line = json.loads((SAMPLES / "xlam.jsonl").read_text().splitlines()[0]) | {"answers": "[]"}
    rec = get_converter("xlam")(line)
    assert rec.scenario == "no_tool_needed" and rec.calls == [] and rec.meta["synthetic_answer"] is True
    assert errors(rec) == []


@pytest.mark.parametrize("text,schema,optional", [
    ("str", {"type": "string"}, False),
    ("int, optional", {"type": "integer"}, True),
    ("Optional[List[float]]", {"type": "array", "items": {"type": "number"}}, True),
    ("List[Dict[str, int]]", {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "integer"}}}, False),
    ("Tuple[float, ...]", {"type": "array", "items": {"type": "number"}}, False),
    ("Union[str, None]", {"type": "string"}, True),
    ("bool | None", {"type": "boolean"}, True),
    ("Literal['asc', 'desc']", {"enum": ["asc", "desc"]}, False),
    ("Set[str]", {"type": "array", "items": {"type": "string"}, "uniqueItems": True}, False),
    ("Any", {}, False),
])
def test_parse_type(text, schema, optional):
    unknown: list[str] = []
    assert parse_type(text, unknown) == (schema, optional)
    assert unknown == []


def test_bfcl_keeps_every_acceptable_value_and_the_dialect():
    b1, b2, b3, b4 = convert_file("bfcl", "bfcl/BFCL_v4_sample.json")
    assert calls(b1) == [("geometry.area_circle", {"radius": 5.0, "units": "cm"})]
    assert b1.meta["bfcl"]["ground_truth"][0]["geometry.area_circle"]["units"] == ["cm", "centimeters", ""]
    assert calls(b2) == [("geometry.area_circle", {"radius": 2.0}), ("geometry.area_circle", {"radius": 3.0})]
    move = b3.tool("robot.move").function.parameters["properties"]
    assert move["point"]["type"] == "array" and move["options"]["type"] == "object" and "type" not in move["note"]
    assert b3.messages[0].role == "system"
    assert b4.scenario == "no_tool_needed" and b4.meta["bfcl"]["synthetic_answer"] is True


@pytest.mark.parametrize("fmt,line,why", [
    ("xlam", {"tools": "[]", "answers": "[]"}, "query"),
    ("xlam", {"query": "q", "tools": "[{\"name\": \"f\", \"parameters\": {\"x\": {\"type\": 5}}}]", "answers": "[]"}, "not a string"),
    ("xlam", {"query": "q", "tools": "[not json", "answers": "[]"}, "tools"),
    ("hermes", {"conversations": [{"from": "human", "value": "hi"}, {"from": "tool", "value": "{}"}]}, "no call before it"),
    ("hermes", {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "<tool_call>{oops</tool_call>"}]}, "cannot be read"),
    ("glaive", {"system": "SYSTEM: none", "chat": "USER: hi\n\n\nASSISTANT: <functioncall> {\"arguments\": '{}'} <|endoftext|>"}, "function name"),
    ("glaive", {"system": "SYSTEM: x", "chat": "no markers here"}, "markers"),
    ("sharegpt", {"conversations": [{"from": "observation", "value": "{}"}]}, "no function_call"),
    ("sharegpt", {"conversations": [{"from": "wizard", "value": "hi"}]}, "unknown role"),
    ("sharegpt", {"conversations": [{"from": "human", "value": "q"},
                                    {"from": "function_call", "value": "[{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"arguments\": {}}]"},
                                    {"from": "observation", "value": "\"only one\""}]}, r"2 call\(s\) but 1 tool result"),
    ("toolace", {"system": "", "conversations": [{"from": "user", "value": "q"}, {"from": "tool", "value": "[]"}]}, "no call before it"),
    ("bfcl", {"id": "simple_python_9", "question": [[{"role": "user", "content": "q"}]], "function": []}, "no possible answer"),
    ("bfcl", {"id": "live_relevance_1-1-0", "question": [[{"role": "user", "content": "q"}]], "function": []}, "no ground-truth call"),
])
def test_unmappable_lines_raise_with_a_reason(fmt, line, why):
    with pytest.raises(ConversionError, match=why):
        get_converter(fmt)(line)


@pytest.mark.parametrize("fmt", ["xlam", "hermes", "glaive", "sharegpt", "toolace", "bfcl"])
def test_not_an_object_is_refused(fmt):
    with pytest.raises(ConversionError):
        get_converter(fmt)(["a", "list"])
