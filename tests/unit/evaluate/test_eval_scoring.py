"""Scoring on a small reference/prediction set whose figures are known by construction."""

from __future__ import annotations

import json

import pytest

from toolforge.errors import InputError
from toolforge.evaluate import aggregate, score_turn
from toolforge.evaluate.predictions import Prediction, load_predictions, resolve
from toolforge.evaluate.references import align, all_assistant_turns, turns_from_records
from toolforge.record import Record

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "units": {"type": "string", "enum": ["metric", "imperial"], "default": "metric"}},
    "required": ["city"]}}}
TRANSLATE = {"type": "function", "function": {"name": "translate", "description": "Translate text.", "parameters": {
    "type": "object", "properties": {"text": {"type": "string"}, "target_language": {"type": "string"}},
    "required": ["text", "target_language"]}}}
TOOLS = [WEATHER, TRANSLATE]


def call(cid, name, **args):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def rec(rid, scenario, messages):
    return (rid, Record.model_validate({"scenario": scenario, "tools": TOOLS, "messages": messages}))


REFS = [
    rec("r1", "single_tool", [
        {"role": "system", "content": "You have tools."},
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": "", "tool_calls": [call("c1", "get_weather", city="Oslo")]},
        {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": '{"temp_c": 4}'},
        {"role": "assistant", "content": "It is 4 °C in Oslo."}]),
    rec("r2", "multi_tool_parallel", [
        {"role": "user", "content": "Weather in Oslo and Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [call("c1", "get_weather", city="Oslo"),
                                                             call("c2", "get_weather", city="Paris")]},
        {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": '{"temp_c": 4}'},
        {"role": "tool", "tool_call_id": "c2", "name": "get_weather", "content": '{"temp_c": 11}'},
        {"role": "assistant", "content": "Oslo 4 °C, Paris 11 °C."}]),
    rec("r3", "no_tool_needed", [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello!"}]),
    rec("r4", "no_tool_needed", [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]),
    rec("r5", "single_tool", [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": "", "tool_calls": [call("c1", "get_weather", city="Oslo")]}]),
]


def P(rid, turn, calls=None, output=None, line=1):
    return Prediction(id=rid, turn=turn, line=line, tool_calls=calls, output=output)


PREDS = [
    P("r1", 2, [{"name": "get_weather", "arguments": {"city": "Oslo", "units": "metric"}}]),  # default given: same call
    P("r1", 4, []),                                                                         # right: no call
    P("r2", 1, [{"name": "get_weather", "arguments": '{"city": "Paris"}'},                   # 1 right, 1 wrong tool
                {"name": "translate", "arguments": {"text": "x", "target_language": "fr"}}]),
    P("r2", 4, [{"name": "get_weather", "arguments": "{bad json"}]),                        # invalid, and a call
    P("r3", 1, []),                                                                         # right: no call
    P("r4", 1, [{"name": "get_weather", "arguments": {"city": "Rome"}}]),                   # call where none needed
    P("r5", 1, [{"name": "get_weather", "arguments": {"city": "Bergen"}}]),                 # right tool, wrong args
]


def score(refs=REFS, preds=PREDS, mode="exact", first_turn_only=False):
    turns = turns_from_records(refs, first_turn_only=first_turn_only)
    pairs, _ = align(turns, preds, known_turns=all_assistant_turns(refs))
    return aggregate([score_turn(t, resolve(p, None), mode=mode) for t, p in pairs])


def test_overall_figures_known_by_construction():
    ov = score()["overall"]
    c = ov["counts"]
    assert (c["turns"], c["tp"], c["fp"], c["fn"]) == (7, 3, 2, 1)
    assert ov["precision"] == 0.6            # 3 / (3 + 2)
    assert ov["recall"] == 0.75              # 3 / (3 + 1)
    assert ov["f1"] == pytest.approx(0.6667, abs=1e-4)   # 2*3 / (2*3 + 2 + 1)
    assert ov["json_validity"] == 0.8        # 4 of 5 outputs with calls parse
    assert ov["argument_correctness"] == pytest.approx(0.6667, abs=1e-4)  # 2 of 3 selected calls
    assert ov["no_tool_accuracy"] == 0.5     # r1 t4 and r3 right; r2 t4 and r4 call
    assert ov["exact_match"] == pytest.approx(3 / 7, abs=1e-4)  # r1 t2, r1 t4, r3


def test_per_scenario_figures():
    by = score()["by_scenario"]
    assert set(by) == {"single_tool", "multi_tool_parallel", "no_tool_needed"}
    st = by["single_tool"]
    assert st["counts"]["turns"] == 3
    assert (st["precision"], st["recall"], st["f1"]) == (1.0, 1.0, 1.0)
    assert st["argument_correctness"] == 0.5 and st["no_tool_accuracy"] == 1.0
    assert st["exact_match"] == pytest.approx(0.6667, abs=1e-4)
    par = by["multi_tool_parallel"]
    assert (par["precision"], par["recall"], par["json_validity"]) == (0.5, 0.5, 0.5)
    assert par["no_tool_accuracy"] == 0.0 and par["exact_match"] == 0.0
    nt = by["no_tool_needed"]
    assert nt["precision"] == 0.0 and nt["recall"] is None and nt["argument_correctness"] is None
    assert nt["no_tool_accuracy"] == 0.5 and nt["exact_match"] == 0.5


def test_first_turn_only_scores_the_tool_selection_decision():
    ov = score(first_turn_only=True)["overall"]   # r1 t2, r2 t1, r3, r4, r5: the t4 predictions are ignored
    c = ov["counts"]
    assert (c["turns"], c["tp"], c["fp"], c["fn"]) == (5, 3, 2, 1)
    assert ov["no_tool_accuracy"] == 0.5 and ov["json_validity"] == 1.0
    assert ov["exact_match"] == 0.4


def test_parallel_calls_match_in_any_order_and_perfect_scores_are_one():
    preds = [P("r2", 1, [{"name": "get_weather", "arguments": {"city": "Paris"}},
                         {"name": "get_weather", "arguments": {"city": "Oslo"}}]), P("r2", 4, [])]
    ov = score(refs=[REFS[1]], preds=preds)["overall"]
    assert [ov[m] for m in ("precision", "recall", "f1", "json_validity", "argument_correctness",
                            "no_tool_accuracy", "exact_match")] == [1.0] * 7


def test_bfcl_mode_normalises_strings_and_accepts_int_for_float():
    num = {"type": "function", "function": {"name": "area", "parameters": {
        "type": "object", "properties": {"r": {"type": "number"}, "unit": {"type": "string"}}, "required": ["r"]}}}
    r = ("n1", Record.model_validate({"scenario": "single_tool", "tools": [num], "messages": [
        {"role": "user", "content": "area of r=2.0 in cm"},
        {"role": "assistant", "tool_calls": [call("c", "area", r=2.5, unit="Square CM")]}]}))
    good = [P("n1", 1, [{"name": "area", "arguments": {"r": 2.5, "unit": "square_cm"}}])]
    assert score([r], good, mode="bfcl")["overall"]["argument_correctness"] == 1.0
    assert score([r], good, mode="exact")["overall"]["argument_correctness"] == 0.0
    r_int = ("n2", Record.model_validate({"scenario": "single_tool", "tools": [num], "messages": [
        {"role": "user", "content": "area of r=2"}, {"role": "assistant", "tool_calls": [call("c", "area", r=2.0)]}]}))
    as_int = [P("n2", 1, [{"name": "area", "arguments": {"r": 2}}])]
    assert score([r_int], as_int, mode="bfcl")["overall"]["argument_correctness"] == 1.0
    extra = [P("n2", 1, [{"name": "area", "arguments": {"r": 2, "unit": "cm"}}])]   # unit not in the reference
    assert score([r_int], extra, mode="bfcl")["overall"]["argument_correctness"] == 0.0
    wrong_type = [P("n2", 1, [{"name": "area", "arguments": {"r": "2"}}])]
    assert score([r_int], wrong_type, mode="bfcl")["overall"]["argument_correctness"] == 0.0


def test_predictions_that_do_not_line_up_are_reported():
    turns = turns_from_records(REFS)
    known = all_assistant_turns(REFS)
    with pytest.raises(InputError, match="no reference with id 'nope'"):
        align(turns, [*PREDS, P("nope", 1, [], line=8)], known_turns=known)
    with pytest.raises(InputError, match="no assistant message at index 3"):
        align(turns, [*PREDS, P("r1", 3, [], line=8)], known_turns=known)
    with pytest.raises(InputError, match="a second prediction for 'r3' turn 1"):
        align(turns, [*PREDS, P("r3", 1, [], line=8)], known_turns=known)
    with pytest.raises(InputError, match="1 of 7 reference turns have no prediction"):
        align(turns, PREDS[:-1], known_turns=known)
    pairs, info = align(turns, PREDS[:-1], allow_missing=True, known_turns=known)
    assert info["missing"] == 1 and pairs[-1][1] is None
    with pytest.raises(InputError, match="has 2 scored turns; give \"turn\""):
        align(turns, [P("r1", None, [])], allow_missing=True, known_turns=known)


def test_missing_turn_defaults_to_the_only_scored_turn():
    turns = turns_from_records(REFS, first_turn_only=True)
    pairs, _ = align(turns, [P(r, None, []) for r, _ in REFS], known_turns=all_assistant_turns(REFS))
    assert [(t.id, t.turn, p.id) for t, p in pairs] == [("r1", 2, "r1"), ("r2", 1, "r2"), ("r3", 1, "r3"),
                                                        ("r4", 1, "r4"), ("r5", 1, "r5")]


def test_malformed_prediction_lines_are_reported_by_number(tmp_path):
    p = tmp_path / "p.jsonl"
    p.write_text("\n".join([json.dumps({"id": "r1", "turn": 2, "output": ""}), "{not json",
                            json.dumps({"id": "r1", "turn": "two", "output": ""}),
                            json.dumps({"id": "r1", "turn": 2}),
                            json.dumps({"id": "r1", "turn": 2, "tool_calls": [{"arguments": {}}]})]) + "\n")
    with pytest.raises(InputError) as exc:
        load_predictions(p)
    assert "line 2: not JSON" in str(exc.value) and "(3 more bad lines)" in str(exc.value)


def test_raw_output_without_family_is_a_usage_error():
    from toolforge.errors import UsageError

    with pytest.raises(UsageError, match="family"):
        resolve(P("r1", 2, output='<tool_call>{"name": "x"}</tool_call>'), None)


def test_imported_bfcl_records_accept_every_acceptable_value_in_bfcl_mode():
    from pathlib import Path

    from toolforge.importers.bfcl import bind_source

    path = Path(__file__).resolve().parents[2] / "fixtures" / "import_samples" / "bfcl" / "BFCL_v4_sample.json"
    line = json.loads(path.read_text().splitlines()[0])   # radius [5.0, 5], units ["cm", "centimeters", ""]
    rec = bind_source(path)(line)
    refs = [("b1", rec)]
    alt = [P("b1", 1, [{"name": "geometry.area_circle", "arguments": {"radius": 5, "units": "Centimeters"}}])]
    assert score(refs, alt, mode="bfcl")["overall"]["argument_correctness"] == 1.0
    assert score(refs, alt, mode="exact")["overall"]["argument_correctness"] == 0.0
    omitted = [P("b1", 1, [{"name": "geometry.area_circle", "arguments": {"radius": 5.0}}])]
    assert score(refs, omitted, mode="bfcl")["overall"]["exact_match"] == 1.0
    wrong = [P("b1", 1, [{"name": "geometry.area_circle", "arguments": {"radius": 5.0, "units": "inches"}}])]
    assert score(refs, wrong, mode="bfcl")["overall"]["argument_correctness"] == 0.0


def test_bfcl_mode_with_nested_objects_and_lists():
    tool = {"type": "function", "function": {"name": "book", "parameters": {"type": "object", "properties": {
        "guest": {"type": "object", "properties": {"name": {"type": "string"}, "tags": {"type": "array"}}},
        "rooms": {"type": "array", "items": {"type": "object"}}}, "required": ["guest"]}}}
    args = {"guest": {"name": "Ada Lovelace", "tags": ["vip", "late"]}, "rooms": [{"beds": 2}, {"beds": 1}]}
    r = ("k1", Record.model_validate({"scenario": "single_tool", "tools": [tool], "messages": [
        {"role": "user", "content": "book"}, {"role": "assistant", "tool_calls": [call("c", "book", **args)]}]}))
    same = [P("k1", 1, [{"name": "book", "arguments": {"guest": {"name": "ada lovelace", "tags": ["VIP", "late"]},
                                                       "rooms": [{"beds": 2}, {"beds": 1}]}}])]
    assert score([r], same, mode="bfcl")["overall"]["argument_correctness"] == 1.0
    swapped = [P("k1", 1, [{"name": "book", "arguments": {"guest": {"name": "Ada Lovelace", "tags": ["late", "vip"]},
                                                          "rooms": [{"beds": 2}, {"beds": 1}]}}])]
    assert score([r], swapped, mode="bfcl")["overall"]["argument_correctness"] == 0.0   # lists keep their order
