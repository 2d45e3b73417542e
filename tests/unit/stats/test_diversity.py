"""Diversity figures: a store with planted repeated openings shows them in stats and in the HTML report."""

from __future__ import annotations

import copy

import pytest

from toolforge.record import Record
from toolforge.stats import compute_stats
from toolforge.stats.diversity import (
    NearDuplicateGate,
    distinct_n,
    openings,
    semantic_available,
    spread,
    words,
)
from toolforge.store import open_store

CITIES = ["Oslo", "Rome", "Lima", "Hanoi", "Quito", "Accra", "Perth", "Tunis", "Riga", "Doha", "Bern", "Kyiv"]


def _records(sample_dicts):
    base = next(d for d in sample_dicts if d["scenario"] == "single_tool")
    out = []
    for i, city in enumerate(CITIES):
        d = copy.deepcopy(base)
        d.pop("id", None)
        # 8 of 12 requests open with the same three words: the planted repetition
        d["messages"][1]["content"] = (f"Can you tell me the weather in {city} today?" if i < 8
                                       else f"{city}: how warm is it there right now?")
        d["messages"][-1]["content"] = f"Right now it is {i} °C in {city}." if i < 6 else f"{city} is at {i} °C."
        d["meta"] = {"persona": "a nurse" if i % 3 else "a pilot", "topic": "weather"}
        out.append(Record.model_validate(d))
    return out


@pytest.fixture
def div_store(tmp_db, sample_dicts):
    with open_store(tmp_db) as store:
        store.upsert_records(_records(sample_dicts), source="test")
    return tmp_db


def test_planted_repeated_openings_are_reported(div_store):
    with open_store(div_store, read_only=True) as store:
        d = compute_stats(store)["diversity"]
    assert d["available"]
    top = d["requests"]["top_openings"][0]
    assert top == {"opening": "can you tell", "records": 8, "share": round(8 / 12, 4)}
    assert d["answers"]["top_openings"] == [{"opening": "right now it", "records": 6, "share": 0.5}]
    r2 = d["requests"]["distinct_2"]
    assert 0 < r2["ratio"] < 1 and r2["total"] > r2["distinct"]
    assert d["personas"]["distinct"] == 2 and d["personas"]["top"][0] == {"value": "a nurse", "records": 8}
    assert d["topics"]["distinct"] == 1 and d["topics"]["evenness"] == 0.0
    assert d["by_scenario"]["single_tool"]["top_opening"]["opening"] == "can you tell"


def test_report_shows_the_diversity_figures(div_store, tmp_path):
    from toolforge.report import write_report

    out = tmp_path / "report.html"
    with open_store(div_store, read_only=True) as store:
        write_report(store, out)
    html = out.read_text("utf-8")
    assert "Diversity" in html and "can you tell" in html and "distinct-2" in html
    assert "a nurse" in html


def test_figures_by_hand():
    toks = [words("a b a b"), words("a b c")]
    assert distinct_n(toks, 1) == {"distinct": 3, "total": 7, "ratio": round(3 / 7, 4)}
    assert distinct_n(toks, 2)["distinct"] == 3  # (a b), (b a), (b c)
    assert openings([words("Can you help me"), words("can you help us"), words("Hi")]) == [
        {"opening": "can you help", "records": 2, "share": round(2 / 3, 4)}]
    s = spread(["x", "x", "y", None])
    assert s["distinct"] == 2 and s["share_of_records"] == 0.75 and 0 < s["evenness"] < 1


def test_near_duplicate_gate_rejects_a_paraphrase():
    assert semantic_available() is None  # setup installs the semantic extra; missing it must fail, not skip
    gate = NearDuplicateGate.create(threshold=0.8)
    assert gate is not None
    assert gate.check("What is the weather like in Oslo today?") is None
    gate.add("What is the weather like in Oslo today?")
    dup = gate.check("How is the weather in Oslo today?")
    assert dup is not None and dup[0] >= 0.8 and "Oslo" in dup[1]
    assert gate.check("Translate 'good night' into Japanese.") is None
    assert gate.admit("Translate 'good night' into Japanese.") is None      # admitted
    again = gate.admit("Please translate 'good night' to Japanese.")
    assert again is not None and "Japanese" in again[1]
