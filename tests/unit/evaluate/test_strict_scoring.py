"""Eval scores the strict reading: a truncated call the parser can repair is invalid JSON and no
valid call; BFCL's greedy pairing of parallel calls against the maximum matching."""

from __future__ import annotations

import json

from toolforge.evaluate import EvalConfig, run_eval
from toolforge.evaluate.bfcl_match import match_all, match_greedy
from toolforge.evaluate.predictions import Prediction, get_family_parser, resolve

TOOL = {"type": "function", "function": {"name": "book_table", "description": "Book a table.", "parameters": {
    "type": "object", "properties": {"restaurant": {"type": "string"}, "party_size": {"type": "integer"}},
    "required": ["restaurant", "party_size"]}}}


def _ref(rid: str, restaurant: str) -> dict:
    return {"id": rid, "scenario": "single_tool", "tools": [TOOL], "messages": [
        {"role": "user", "content": f"Book {restaurant} for two."},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "book_table", "arguments": {"restaurant": restaurant, "party_size": 2}}}]}]}


GOOD = '<tool_call>\n{"name": "book_table", "arguments": {"restaurant": "Kontrast", "party_size": 2}}\n</tool_call>'
TRUNCATED = '<tool_call>\n{"name": "book_table", "arguments": {"restaurant": "Maaemo", "party_size": 2,\n</tool_call>'


def _files(tmp_path, second_output: str):
    refs = [_ref("a", "Kontrast"), _ref("b", "Maaemo")]
    ids = ["a", "b"]  # references keep the id they state
    rpath = tmp_path / "refs.jsonl"
    rpath.write_text("".join(json.dumps(r) + "\n" for r in refs))
    ppath = tmp_path / "preds.jsonl"
    ppath.write_text(json.dumps({"id": ids[0], "turn": 1, "output": GOOD}) + "\n"
                     + json.dumps({"id": ids[1], "turn": 1, "output": second_output}) + "\n")
    return rpath, ppath


def test_a_planted_truncated_hermes_call_drops_json_validity(tmp_path):
    whole = GOOD.replace("Kontrast", "Maaemo")
    refs, preds = _files(tmp_path, whole)
    clean = run_eval(EvalConfig(references=refs, predictions=preds, family="hermes"))["overall"]
    assert clean["json_validity"] == 1.0 and clean["exact_match"] == 1.0

    refs, preds = _files(tmp_path, TRUNCATED)
    res = run_eval(EvalConfig(references=refs, predictions=preds, family="hermes"))["overall"]
    assert res["json_validity"] == 0.5           # the repaired output counts as invalid JSON
    assert res["counts"]["outputs_with_calls"] == 2 and res["counts"]["valid_outputs_with_calls"] == 1
    assert res["exact_match"] == 0.5 and res["recall"] == 0.5  # and as no valid call
    assert res["argument_correctness"] == 1.0


def test_the_lenient_parser_would_have_repaired_it():
    lenient = resolve(Prediction("x", 1, 1, output=TRUNCATED), get_family_parser("hermes", strict=False))
    assert lenient.valid and lenient.calls == [{"name": "book_table", "arguments": {"restaurant": "Maaemo", "party_size": 2}}]
    strict = resolve(Prediction("x", 1, 1, output=TRUNCATED), get_family_parser("hermes"))
    assert strict.attempted and not strict.valid and strict.calls == [] and "[repaired]" in (strict.error or "")


def test_greedy_pairing_can_find_fewer_than_a_maximum_matching():
    # prediction 0 fits both references, prediction 1 only the first: greedy gives reference 0
    # prediction 0, and reference 1 is left without one
    fits = {(0, 0), (0, 1), (1, 0)}
    ok = lambda p, r: (p, r) in fits  # noqa: E731
    assert match_greedy([0, 1], [0, 1], ok) == 1
    assert match_all([0, 1], [0, 1], ok) == 2
    assert match_greedy([1, 0], [0, 1], ok) == 2   # in the other order greedy finds both


def test_maximum_matching_of_thousands_of_calls_does_not_recurse():
    n = 1500  # past Python's recursion limit (1000): a recursive augmenting path would fail
    # a chain: prediction i fits references i and i+1; only the shifted pairing matches them all
    preds, refs = list(range(n)), list(range(n))
    ok = lambda p, r: r in (p, p - 1) if p else r == 0  # noqa: E731
    assert match_all(preds[::-1], refs, ok) == n
