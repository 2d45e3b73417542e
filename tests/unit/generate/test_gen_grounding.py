"""Generation's accept step runs the grounding checks: a reply whose answer invents a figure is re-asked."""

from __future__ import annotations

import json

import duckdb

from toolforge.backends.fake import FakeTeacher
from toolforge.generate.config import GenerateConfig
from toolforge.generate.runner import generate

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                   "additionalProperties": False}}}


def _plan(answer):
    return {"user": "What's the weather in Oslo right now?",
            "turns": [[{"name": "get_weather", "arguments": {"city": "Oslo"}, "result": {"temp_c": 4, "sky": "rain"}}]],
            "answer": answer}


def test_an_invented_figure_is_rejected_and_reasked(tmp_db, tmp_path):
    catalog = tmp_path / "weather.json"
    catalog.write_text(json.dumps({"name": "weather", "description": "one tool", "tools": [WEATHER]}))
    t = FakeTeacher()
    t.enqueue(_plan("It is 9 °C and rainy in Oslo."), _plan("It is 4 °C and rainy in Oslo."))
    cfg = GenerateConfig(targets={"single_tool": 1}, teacher="fake:", seed=1, concurrency=1, max_attempts=3,
                         catalogs=[str(catalog)], mode="oneshot")
    s = generate(tmp_db, cfg, teacher=t)
    assert s.stored == {"single_tool": 1}
    con = duckdb.connect(str(tmp_db), read_only=True)
    rows = con.execute("SELECT outcome, reason, detail FROM generation_attempts ORDER BY attempt").fetchall()
    answer = con.execute("SELECT messages->>'$[-1].content' FROM records").fetchone()[0]
    con.close()
    assert [(o, r) for o, r, _ in rows] == [("rejected", "answer_ungrounded"), ("accepted", None)]
    assert "9" in rows[0][2]
    assert answer == "It is 4 °C and rainy in Oslo."
    assert "9" in t.requests[1].messages[-1]["content"]  # the re-ask names the invented figure
