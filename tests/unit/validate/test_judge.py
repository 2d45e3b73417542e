"""The LLM judge: prompt, verdict parsing, issues, and verdicts stored in a real DuckDB store.

The teacher is the registered ``fake:`` backend (a test double with a reply queue);
the judge logic around it is real.
"""

from __future__ import annotations

import duckdb

from toolforge.backends.base import TransientError
from toolforge.backends.fake import FakeTeacher
from toolforge.store import open_store
from toolforge.validate import validate_store
from toolforge.validate.judge import Judge, judge_prompt, parse_verdict


def test_prompt_shows_tools_calls_results_and_answer(sample_dicts):
    d = next(x for x in sample_dicts if x["scenario"] == "single_tool")
    text = judge_prompt(d)
    assert "get_weather: Get the current weather" in text
    assert 'get_weather({"city": "Oslo, Norway"})' in text
    assert "light rain" in text and "It is 4 °C in Oslo" in text
    assert '"verdict"' in text


def test_parse_verdict_is_tolerant_and_strict_about_values():
    assert parse_verdict('{"verdict": "pass", "reason": "fine"}') == ("pass", "fine")
    assert parse_verdict('Verdict below.\n{"verdict": "FAIL", "reason": "wrong city",}') == ("fail", "wrong city")
    assert parse_verdict("I think it is fine")[0] == "error"
    assert parse_verdict('{"verdict": "maybe", "reason": "?"}')[0] == "error"


def test_judge_issues(sample_records):
    t = FakeTeacher()
    t.enqueue({"verdict": "pass", "reason": "ok"}, {"verdict": "fail", "reason": "the answer invents a number"},
              "garbage", TransientError("timeout", "slow"))
    j = Judge(t, spec="fake:")
    assert j.check(sample_records[0]) == []
    (rej,) = j.check(sample_records[1])
    assert rej.code == "judge_reject" and "invents a number" in rej.message and rej.severity == "error"
    (err,) = j.check(sample_records[2])
    assert err.code == "judge_error" and err.severity == "warning"
    (err2,) = j.check(sample_records[3])
    assert err2.code == "judge_error"
    j.close()
    assert t.requests[0].response_schema["properties"]["verdict"]["enum"] == ["pass", "fail"]
    assert t.requests[0].temperature == 0.0


def test_judge_store_keeps_verdicts_and_reasons(filled_db, sample_records):
    t = FakeTeacher(name="fake:judge")
    t.enqueue(*[{"verdict": "fail" if i == 2 else "pass", "reason": f"reason {i}"} for i in range(len(sample_records))])
    with open_store(filled_db) as store:
        summary = validate_store(store, None, "judge", teacher=t)
    assert (summary.records, summary.ok, summary.failed) == (len(sample_records), len(sample_records) - 1, 1)
    con = duckdb.connect(str(filled_db), read_only=True)
    rows = con.execute("SELECT verdict, count(*) FROM judge_verdicts GROUP BY verdict ORDER BY verdict").fetchall()
    assert rows == [("fail", 1), ("pass", len(sample_records) - 1)]
    (code, msg) = con.execute("SELECT code, message FROM issues WHERE stage = 'judge'").fetchone()
    assert code == "judge_reject" and "reason 2" in msg
    con.close()
