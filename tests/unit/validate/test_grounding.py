"""Grounding checks: planted faults are caught, their clean twins and clean data pass (issue #15)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest

from tests.unit.validate import grounding_corpus as G
from toolforge.validate import CODES, RecordValidator, validate_file, validate_record
from toolforge.validate.evidence import stem
from toolforge.validate.grounding import GROUNDING_CODES

ROOT = Path(__file__).resolve().parents[3]


def _codes(rec):
    return {i.code for i in validate_record(rec)}


def test_corpus_file_is_current_and_balanced():
    assert G.JSONL.read_text("utf-8") == G.dump(), "run: python -m tests.unit.validate.grounding_corpus"
    classes = Counter(cls for cls, *_ in G.pairs())
    assert set(classes) == {"answer_ungrounded", "arg_ungrounded", "unchained_call", "tool_mismatch", "result_ignored",
                            "duplicate_parallel_call", "option_ignored", "no_tool_live_or_claimed", "retry_unchanged",
                            "repeated_call"}
    assert min(classes.values()) >= 2


def test_corpus_twins_are_well_formed():
    """Only the grounding checks may tell the twins apart: both pass every other validator."""
    v = RecordValidator()
    for rec in G.records():
        assert v.validate(rec, check_grounding=False) == [], rec["meta"]


def test_planted_corpus_hit_rate_and_clean_twin_false_flags():
    m = G.measure()
    assert m["faulty"] >= 18 and m["clean"] == m["faulty"]
    assert m["hit_rate"] >= 0.9, m
    assert m["false_flag_rate"] <= 0.05, m


ALL_PAIRS = G.pairs() + G.holdout_pairs()


@pytest.mark.parametrize("cls,name,clean,bad", ALL_PAIRS, ids=[f"{c}/{n}" for c, n, *_ in ALL_PAIRS])
def test_each_faulty_twin_gets_its_own_code(cls, name, clean, bad):
    want = {"no_tool_live_or_claimed": {"live_data_no_call", "claimed_lookup"}}.get(cls, {cls})
    issues = validate_record(copy.deepcopy(bad))
    hit = [i for i in issues if i.code in want]
    assert hit, issues
    assert all(i.severity == "error" and i.path and i.message for i in hit)
    assert validate_record(copy.deepcopy(clean)) == []


def test_every_grounding_code_is_documented():
    assert set(GROUNDING_CODES) <= set(CODES)
    readme = (ROOT / "README.md").read_text("utf-8")
    for code in GROUNDING_CODES:
        assert f"`{code}`" in readme, code


def test_grounding_can_be_turned_off():
    bad = next(b for c, _, _, b in G.pairs() if c == "arg_ungrounded")
    assert "arg_ungrounded" in _codes(bad)
    assert validate_record(bad, check_grounding=False) == []
    assert RecordValidator(check_grounding=False).validate(bad) == []


def test_validate_file_flags_the_faulty_twins(tmp_path):
    results = list(validate_file(G.JSONL))
    assert len(results) == len(G.records())
    flagged = [bool(r.issues) for r in results]
    faulty = [r["meta"]["corpus"]["faulty"] for r in G.records()]
    assert sum(f and g for f, g in zip(faulty, flagged, strict=True)) >= 0.9 * sum(faulty)
    assert sum(g and not f for f, g in zip(faulty, flagged, strict=True)) <= 0.05 * (len(faulty) - sum(faulty))


def test_packaged_sample_records_have_no_grounding_issues():
    for line in (ROOT / "examples" / "sample.jsonl").read_text("utf-8").splitlines():
        rec = json.loads(line)
        assert not _codes(rec) & set(GROUNDING_CODES), rec["scenario"]


# -- what counts as grounded: lenient where clean data varies -------------------------------------------
def _weather(answer: str, result: dict, user: str = "Weather in Oslo?", args: dict | None = None) -> dict:
    return G.rec("single_tool", [G.WEATHER, G.TRANSLATE], G.user(user),
                 G.calls(G.call("c1", "get_weather", args or {"city": "Oslo"})),
                 G.result("c1", "get_weather", result), G.answer(answer))


@pytest.mark.parametrize("answer,result", [
    ("About 4 °C in Oslo.", {"temp_c": 4.3}),                              # rounding
    ("It is 39 °F in Oslo.", {"temp_c": 4}),                               # a conversion the unit names
    ("Oslo is at 4 °C and Bergen at 9 °C: a 5-degree gap.", {"oslo_c": 4, "bergen_c": 9}),  # a difference
    ("Sunset in Oslo is at 3:30 pm.", {"sunset": "15:30"}),               # 12 h vs 24 h
    ("It will be 4 °C on 12 May.", {"temp_c": 4, "date": "2026-05-12"}),   # date parts
    ("Roughly 48,000 people live in that district of Oslo.", {"population": 48210}),  # a hedged round figure
])
def test_lenient_answers_pass(answer, result):
    assert not _codes(_weather(answer, result)) & set(GROUNDING_CODES)


@pytest.mark.parametrize("answer,result", [
    ("It is 7 °C in Oslo.", {"temp_c": 4}),
    ("It is 4 °C in Oslo; sunset is at 4:30 pm.", {"temp_c": 4, "sunset": "15:30"}),
    ("It is 4 °C in Bergen.", {"temp_c": 4}),
    ("It is 4 °C in Oslo (station OSL-221).", {"temp_c": 4, "station": "OSL-118"}),
])
def test_wrong_answers_are_flagged(answer, result):
    assert "answer_ungrounded" in _codes(_weather(answer, result))


def test_abbreviations_and_spelling_fixes_ground_arguments():
    rec = _weather("It is 16 °C in San Francisco.", {"temp_c": 16}, user="Weather in SF?",
                   args={"city": "San Francisco"})
    assert not _codes(rec) & set(GROUNDING_CODES)
    rec = _weather("It is 16 °C in San Francisco.", {"temp_c": 16}, user="Weather in San Fransisco?",
                   args={"city": "San Francisco"})
    assert not _codes(rec) & set(GROUNDING_CODES)


def test_stems_fold_plurals_and_suffixes():
    assert stem("movies") == stem("movie")
    assert stem("cities") == stem("city")
    assert stem("translation") == stem("translate")
    assert stem("booking") == stem("book")


def test_a_request_that_names_a_tool_is_a_warning_that_generation_refuses():
    from toolforge.validate import generation_blockers
    from toolforge.validate.provenance import named_tool

    assert named_tool("How do I use the `get_webpage` tool on https://example.com?", ["get_webpage"]) == "get_webpage"
    assert named_tool("call getWeather for Oslo", ["getWeather"]) == "getWeather"
    # plain words are not identifiers: a user may say "translate" or "weather" by chance
    assert named_tool("Please translate 'good morning' into French.", ["translate"]) is None
    assert named_tool("What is my_weather_thing?", ["get_weather"]) is None
    bad = next(b for c, _, _, b in G.pairs() if c == "arg_ungrounded")
    name = bad["tools"][0]["function"]["name"]
    assert "_" in name
    assert "request_names_tool" not in _codes(bad)
    bad["messages"][1]["content"] += f" Use {name}."
    issues = [i for i in validate_record(bad) if i.code == "request_names_tool"]
    assert issues and issues[0].severity == "warning" and name in issues[0].message
    assert [i.code for i in generation_blockers(issues)] == ["request_names_tool"]


def test_a_url_must_be_the_one_given_or_name_a_site_the_evidence_names():
    tools = [{"type": "function", "function": {"name": "get_webpage", "description": "Fetch a web page", "parameters": {
        "type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}}}]

    def rec(request, url):
        return {"scenario": "single_tool", "tools": tools, "messages": [
            {"role": "user", "content": request},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_webpage", "arguments": {"url": url}}}]},
            {"role": "tool", "tool_call_id": "c1", "content": '{"title": "Docs", "text": "Welcome to the docs."}'},
            {"role": "assistant", "content": "The page says: Welcome to the docs."}]}

    def flagged(request, url):
        return "arg_ungrounded" in _codes(rec(request, url))

    given = "Fetch https://example.com/documentation.pdf for me please."
    assert flagged(given, "https://example.com/documentation/pdf")  # altered (Qwen2.5-Coder did this)
    assert not flagged(given, "https://example.com/documentation.pdf")
    assert not flagged("Fetch https://example.com/docs/ for me please.", "https://www.example.com/docs")
    assert not flagged("Open the installation page of https://example.com/docs", "https://example.com/docs/installation")
    assert not flagged("What is on the python docs front page?", "https://docs.python.org")
    assert not flagged("What's on the front page of nytimes.com today?", "https://www.nytimes.com/")
    assert not flagged("Show me the Wikipedia article on Lisbon.", "https://en.wikipedia.org/wiki/Lisbon")
    assert flagged("What do the latest Fooapp release notes say?", "https://releases.acmecloud.io/notes")


def test_the_same_call_after_a_transient_error_is_the_right_retry():
    """Qwen2.5-Coder retried database_query unchanged after 'service_unavailable': right, not retry_unchanged."""
    tools = [{"type": "function", "function": {"name": "get_order_status", "description": "Order status by id",
                                               "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                                                              "required": ["order_id"]}}}]

    def rec(error):
        return {"scenario": "error_recovery", "tools": tools, "messages": [
            {"role": "user", "content": "Status of order B-1204?"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {
                "name": "get_order_status", "arguments": {"order_id": "B-1204"}}}]},
            {"role": "tool", "tool_call_id": "c1", "content": json.dumps(error)},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c2", "type": "function", "function": {
                "name": "get_order_status", "arguments": {"order_id": "B-1204"}}}]},
            {"role": "tool", "tool_call_id": "c2", "content": '{"status": "delivered"}'},
            {"role": "assistant", "content": "Order B-1204 was delivered."}]}

    for transient in ({"error": "service_unavailable", "message": "the order service is currently unavailable"},
                      {"error": "timeout", "message": "the request timed out"},
                      {"error": "rate_limited", "message": "too many requests, try again in 2 seconds"}):
        assert "retry_unchanged" not in _codes(rec(transient)), transient
    assert "retry_unchanged" in _codes(rec({"error": "not_found", "message": "no order B-1204"}))
