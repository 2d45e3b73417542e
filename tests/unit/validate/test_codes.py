"""Every issue code, at least two hand-written records each; clean records of all seven scenarios pass."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from tests.unit.validate import records as R
from toolforge.record import SCENARIOS, Record
from toolforge.validate import CODES, Issue, RecordValidator, validate_record


def _m(rec, i):
    return rec["messages"][i]


def _set(rec, fn):
    fn(rec)
    return rec


def _drop_result():
    rec = R.single()
    del rec["messages"][3]
    return rec


def _parallel_missing_one():
    rec = R.parallel()
    del rec["messages"][4]
    return rec


def _orphan_after_user():
    rec = R.no_tool()
    rec["messages"].insert(2, {"role": "tool", "tool_call_id": "zz", "name": "get_weather", "content": "{}"})
    return rec


def _orphan_wrong_id():
    rec = R.single()
    _m(rec, 3)["tool_call_id"] = "c9"
    return rec


def _dup_ids_one_turn():
    rec = R.parallel()
    _m(rec, 2)["tool_calls"][1]["id"] = "c1"
    return rec


def _dup_ids_two_turns():
    rec = R.sequential()
    _m(rec, 4)["tool_calls"][0]["id"] = "c1"
    _m(rec, 5)["tool_call_id"] = "c1"
    return rec


def _no_final():
    rec = R.single()
    del rec["messages"][4]
    return rec


def _system_late():
    rec = R.single()
    rec["messages"].insert(2, {"role": "system", "content": "Be brief."})
    return rec


def _assistant_first():
    rec = R.no_tool()
    rec["messages"][1:] = [{"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "How can I help?"}]
    return rec


def _bad_tool_schema(params):
    def make():
        rec = R.single()
        rec["tools"][1]["function"]["parameters"] = params
        return rec
    return make


def _seq_one_turn():
    rec = R.sequential()
    rec["scenario"] = "multi_tool_sequential"
    del rec["messages"][4:6]
    return rec


CASES: dict[str, list[Callable[[], dict]]] = {
    "json_invalid": [
        lambda: R.with_args('{"city": "Oslo"'),
        lambda: R.with_args("[1, 2]"),
        lambda: _set(R.single(), lambda r: _m(r, 3).update(content='{"temp_c": 4,')),
    ],
    "unknown_tool": [
        lambda: R.with_args({"city": "Oslo"}, name="get_forecast"),
        lambda: _set(R.parallel(), lambda r: _m(r, 2)["tool_calls"][1]["function"].update(name="GET_WEATHER")),
    ],
    "missing_required_arg": [
        lambda: R.with_args({"units": "metric"}),
        lambda: R.with_args({"city": "Oslo", "coords": {"lat": 59.9}}),
        lambda: R.with_args({"site": "example.org"}, name="web_search"),
    ],
    "unexpected_arg": [
        lambda: R.with_args({"city": "Oslo", "country": "NO"}),           # additionalProperties: false
        lambda: R.with_args({"query": "x", "lang": "en"}, name="web_search"),  # not declared, no additionalProperties
        lambda: R.with_args({"city": "Oslo", "coords": {"lat": 1, "lon": 2, "alt": 3}}),  # nested
    ],
    "arg_type": [
        lambda: R.with_args({"city": "Oslo", "days": "3"}),
        lambda: R.with_args({"city": 42}),
        lambda: R.with_args({"city": "Oslo", "coords": {"lat": "59.9", "lon": 10.7}}),
    ],
    "arg_enum": [
        lambda: R.with_args({"city": "Oslo", "units": "kelvin"}),
        lambda: R.with_args({"city": "Oslo", "units": "Metric"}),
    ],
    "arg_constraint": [
        lambda: R.with_args({"city": "Oslo", "days": 30}),
        lambda: R.with_args({"city": ""}),
        lambda: R.with_args({"query": "x", "site": "Not A Domain!"}, name="web_search"),
        lambda: R.with_args({"city": "Oslo", "when": "next tuesday"}),
    ],
    "missing_tool_result": [_drop_result, _parallel_missing_one],
    "orphan_tool_result": [_orphan_after_user, _orphan_wrong_id],
    "duplicate_call_id": [_dup_ids_one_turn, _dup_ids_two_turns],
    "role_order": [_no_final, _system_late, _assistant_first],
    "empty_answer": [
        lambda: _set(R.single(), lambda r: _m(r, 4).update(content="")),
        lambda: _set(R.no_tool(), lambda r: _m(r, 2).update(content="   \n")),
        lambda: _set(R.no_tool(), lambda r: _m(r, 2).update(content="<think>easy</think>")),
    ],
    "think_format": [
        lambda: _set(R.no_tool(), lambda r: _m(r, 2).update(content="<think>2+2 is 4. 2 + 2 is 4.")),
        lambda: _set(R.no_tool(), lambda r: _m(r, 2).update(content="2 + 2 is 4.</think>")),
        lambda: _set(R.no_tool(), lambda r: _m(r, 2).update(content="Sure. <think>hmm</think> 4.")),
        lambda: _set(R.reasoning(), lambda r: _m(r, 2).update(reasoning="<think>" + _m(r, 2)["reasoning"] + "</think>")),
    ],
    "tool_schema_invalid": [
        _bad_tool_schema({"type": "object", "properties": {"q": {"type": "text"}}}),
        _bad_tool_schema({"type": "object", "properties": {"q": {"type": "string", "minLength": -1}}}),
        _bad_tool_schema(["query"]),
        _bad_tool_schema({"type": "string"}),
    ],
    "scenario_mismatch": [
        lambda: _set(R.single(), lambda r: r.update(scenario="multi_tool_parallel")),
        lambda: _set(R.parallel(), lambda r: r.update(scenario="single_tool")),
        lambda: _set(R.single(), lambda r: r.update(scenario="no_tool_needed")),
        lambda: _set(R.no_tool(), lambda r: r.update(tools=[])),
        lambda: _set(R.single(), lambda r: r.update(scenario="reasoning_heavy")),
        lambda: _set(R.sequential(), lambda r: r.update(scenario="complex_multi_step")),
        lambda: _set(R.single(), lambda r: r.update(scenario="error_recovery")),
        _seq_one_turn,
    ],
    # extra codes, beyond the required list
    "answer_incomplete": [  # what Qwen2.5-Coder's runaway replies looked like
        lambda: _set(R.no_tool(), lambda r: _m(r, 2).update(content="Here is what it printed: 5, TEST ......... {")),
        lambda: _set(R.single(), lambda r: _m(r, 4).update(content="The forecast for Oslo is:")),
        lambda: _set(R.no_tool(), lambda r: _m(r, 2).update(content="The values are 1, 2,")),
    ],
    "tool_name_mismatch": [
        lambda: _set(R.single(), lambda r: _m(r, 3).update(name="web_search")),
        lambda: _set(R.parallel(), lambda r: _m(r, 4).update(name="log_event")),
    ],
    "duplicate_tool": [
        lambda: _set(R.single(), lambda r: r["tools"].append(R.WEATHER)),
        lambda: _set(R.single(), lambda r: r["tools"].append({"name": "web_search", "parameters": {"type": "object"}})),
    ],
}


def test_every_required_code_is_covered():
    required = {"json_invalid", "unknown_tool", "missing_required_arg", "unexpected_arg", "arg_type", "arg_enum",
                "arg_constraint", "missing_tool_result", "orphan_tool_result", "duplicate_call_id", "role_order",
                "empty_answer", "think_format", "tool_schema_invalid", "scenario_mismatch"}
    assert required <= set(CODES)
    for code in required:
        assert len(CASES[code]) >= 2, code


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_clean_records_of_every_scenario_pass(scenario):
    rec = R.CLEAN[scenario]()
    assert rec["scenario"] == scenario
    assert validate_record(rec) == []
    assert validate_record(Record.model_validate(rec)) == []


@pytest.mark.parametrize("code,index", [(c, i) for c, makers in CASES.items() for i in range(len(makers))])
def test_broken_record_gets_its_code(code, index):
    rec = CASES[code][index]()
    issues = RecordValidator().validate(copy.deepcopy(rec))
    codes = [i.code for i in issues]
    assert code in codes, issues
    hit = next(i for i in issues if i.code == code)
    assert isinstance(hit, Issue) and hit.path and hit.message


def test_paths_point_at_the_argument():
    issues = validate_record(R.with_args({"city": "Oslo", "days": "3", "coords": {"lat": "x", "lon": 1}}))
    paths = {i.path for i in issues if i.code == "arg_type"}
    base = "messages[2].tool_calls[0].function.arguments"
    assert paths == {f"{base}.days", f"{base}.coords.lat"}
    missing = validate_record(R.with_args({}))
    assert [(i.code, i.path) for i in missing] == [("missing_required_arg", f"{base}.city")]


def test_open_schema_allows_undeclared_arguments():
    rec = R.complex_steps()
    _m(rec, 6)["tool_calls"][0]["function"]["arguments"] = {"event": "weather Dubai 35", "anything": [1, 2]}
    assert validate_record(rec) == []


def test_arguments_as_json_string_are_accepted():
    assert validate_record(R.with_args('{"city": "Oslo", "units": "metric"}')) == []


def test_sequential_without_data_flow_is_an_error():
    rec = R.sequential()
    _m(rec, 1)["content"] = "Find the city with the tallest tower, then tell me the weather in Paris."
    _m(rec, 4)["tool_calls"][0]["function"]["arguments"] = {"city": "Paris"}
    _m(rec, 6)["content"] = "Dubai has the tallest tower; it is 35 °C in Paris."
    issues = validate_record(rec)
    assert [(i.code, i.severity) for i in issues] == [("unchained_call", "error")]
    assert validate_record(rec, check_grounding=False) == []


def test_scenario_check_can_be_turned_off():
    rec = R.single(scenario="multi_tool_parallel")
    assert validate_record(rec, check_scenario=False) == []


@pytest.mark.parametrize("bad,code", [
    ([1, 2, 3], "record_invalid"),
    ("a string", "record_invalid"),
    ({"tools": []}, "record_invalid"),
    ({"messages": []}, "record_invalid"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "record_invalid"),
    ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": 5}]}, "record_invalid"),
    ({"tools": "get_weather", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}, "record_invalid"),
    ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [{"id": "1", "function": {}}]}]}, "record_invalid"),
])
def test_malformed_input_is_reported_not_raised(bad, code):
    issues = validate_record(bad)
    assert code in [i.code for i in issues]


def test_tool_schema_invalid_does_not_block_other_tools():
    rec = R.single()
    rec["tools"][1]["function"]["parameters"] = {"type": "object", "properties": {"q": {"type": "nope"}}}
    issues = validate_record(rec)
    assert [i.code for i in issues] == ["tool_schema_invalid"]
    assert issues[0].path == "tools[1].function.parameters"


def test_whole_answers_are_not_incomplete():
    from toolforge.validate.record_checks import incomplete

    for text in ("The result is 5.", "Wait... what?", "Use this:\n```python\nx = {\n```", "Total: $600 (incl. VAT)",
                 "Steps: 1) read 2) sum", "Done!", "Lisbon → Porto: 313 km"):
        assert incomplete(text) is None, text
