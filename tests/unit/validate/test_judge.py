"""The LLM judge: prompt, verdict parsing, issues, and verdicts stored in a real DuckDB store.

The teacher is the registered ``fake:`` backend (a test double with a reply queue);
the judge logic around it is real.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from toolforge.backends.base import TransientError
from toolforge.backends.fake import FakeTeacher
from toolforge.review import review_status
from toolforge.store import open_store
from toolforge.validate import Issue, validate_store
from toolforge.validate.judge import (
    Judge,
    judge_agreement,
    judge_prompt,
    judge_schema,
    load_rubrics,
    parse_judgement,
    parse_verdict,
    rubric_for,
)


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


# -- rubric per scenario, a verdict per check, scores stored, agreement with review (issue #15) ------------


def _reply(scenario, fail=(), score=4):
    checks = [{"check": c, "verdict": "fail" if c in fail else "pass", "reason": f"{c} reason"}
              for c, _ in rubric_for(scenario)]
    return {"checks": checks, "score": score, "verdict": "fail" if fail else "pass", "reason": "overall"}


def test_every_scenario_has_its_own_rubric_checks():
    from toolforge.record import SCENARIOS

    common = set(load_rubrics()["common"])
    for s in SCENARIOS:
        ids = [c for c, _ in rubric_for(s)]
        assert common < set(ids), s  # the common checks and at least one of the scenario's own
    assert "chained" in dict(rubric_for("multi_tool_sequential"))
    assert "recovery_sound" in dict(rubric_for("error_recovery"))


def test_prompt_and_schema_name_the_scenario_checks(sample_dicts):
    d = next(x for x in sample_dicts if x["scenario"] == "multi_tool_sequential")
    text = judge_prompt(d)
    assert "chained:" in text and "answer_grounded:" in text and "multi_tool_sequential" in text
    schema = judge_schema([c for c, _ in rubric_for("multi_tool_sequential")])
    assert "chained" in schema["properties"]["checks"]["items"]["properties"]["check"]["enum"]


def test_a_failed_check_fails_the_record_even_when_the_overall_field_says_pass():
    ids = [c for c, _ in rubric_for("single_tool")]
    j = parse_judgement(json.dumps({**_reply("single_tool", fail=("answer_grounded",)), "verdict": "pass"}), ids)
    assert j.verdict == "fail" and [c for c, *_ in j.failed_checks] == ["answer_grounded"] and j.score == 4
    j = parse_judgement(json.dumps({"checks": [{"check": "made_up", "verdict": "fail", "reason": "x"}],
                                    "verdict": "pass", "reason": "ok", "score": 9}), ids)
    assert j.verdict == "pass" and j.checks == [] and j.score is None  # unknown check and out-of-range score dropped


def test_one_issue_per_failed_check(sample_records):
    t = FakeTeacher()
    rec = next(r for r in sample_records if r.scenario == "error_recovery")
    t.enqueue(_reply("error_recovery", fail=("recovery_sound", "answer_complete")))
    j = Judge(t, spec="fake:")
    issues = j.check(rec)
    j.close()
    assert sorted(i.path for i in issues) == ["$.judge.answer_complete", "$.judge.recovery_sound"]
    assert all(i.code == "judge_reject" and "reason" in i.message for i in issues)
    assert t.requests[0].max_tokens >= 400


def test_scores_and_checks_are_stored_and_not_asked_twice(filled_db, sample_records):
    t = FakeTeacher(name="fake:judge")
    with open_store(filled_db) as store:
        sample_records = list(store.iter_records(None))  # the order the judge sees them in
        t.enqueue(*[_reply(r.scenario, fail=("answer_grounded",) if i == 1 else (), score=2 if i == 1 else 5)
                    for i, r in enumerate(sample_records)])
        validate_store(store, None, "judge", teacher=t)
        n_asked = len(t.requests)
        again = validate_store(store, None, "judge", teacher=FakeTeacher(name="fake:judge"))  # nothing queued
        assert again.records == 0 and n_asked == len(sample_records)
        rows = store.con.execute("SELECT verdict, score, rubric_sha IS NOT NULL FROM judge_verdicts "
                                 "ORDER BY score").fetchall()
        assert rows[0] == ("fail", 2.0, True) and {r[1] for r in rows[1:]} == {5.0}
        failed = store.con.execute("SELECT record_id, check_id FROM judge_checks WHERE verdict = 'fail'").fetchall()
        assert [c for _, c in failed] == ["answer_grounded"] and failed[0][0] == sample_records[1].id
        assert store.con.execute("SELECT count(*) FROM judge_checks").fetchone()[0] == sum(
            len(rubric_for(r.scenario)) for r in sample_records)


def test_agreement_with_review_appears_in_review_status(filled_db, sample_records):
    with open_store(filled_db) as store:
        assert judge_agreement(store)["available"] is False
        assert review_status(store)["judge_agreement"]["available"] is False
        sample_records = list(store.iter_records(None))  # the order the judge sees them in
        t = FakeTeacher(name="fake:judge")
        # the judge fails records 0 and 1; humans reject records 1 and 2, accept 3 and 4
        t.enqueue(*[_reply(r.scenario, fail=("answer_grounded",) if i in (0, 1) else ()) for i, r in
                    enumerate(sample_records)])
        validate_store(store, None, "judge", teacher=t)
        store.con.executemany("INSERT INTO review_verdicts (record_id, verdict) VALUES (?, ?)",
                              [(sample_records[i].id, v) for i, v in
                               ((0, "accept"), (1, "reject"), (2, "needs_fix"), (3, "accept"), (4, "accept"))])
        a = review_status(store)["judge_agreement"]
    j = a["judges"]["fake:judge"]
    assert j["records"] == 5 and j["counts"] == {"pass_accept": 2, "pass_reject": 1, "fail_accept": 1, "fail_reject": 1}
    assert j["agreement"] == 0.6
    assert j["kappa"] == pytest.approx(1 / 6, abs=1e-3)
    grounded = next(c for c in j["checks"] if c["check"] == "answer_grounded")
    assert (grounded["failed_on_accepted"], grounded["accepted"], grounded["failed_on_rejected"],
            grounded["rejected"]) == (1, 3, 1, 2)


def test_a_users_rubric_replaces_a_scenario(tmp_path):
    p = tmp_path / "rubric.yaml"
    p.write_text("scenarios:\n  single_tool:\n    units_right: Units match what the user asked.\n")
    r = load_rubrics(str(p))
    ids = [c for c, _ in rubric_for("single_tool", r)]
    assert "units_right" in ids and "one_call_enough" not in ids and "answer_grounded" in ids
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just a list\n")
    from toolforge.errors import InputError

    with pytest.raises(InputError):
        load_rubrics(str(bad))


def test_records_failing_the_deterministic_checks_are_not_sent_to_the_judge(filled_db):
    with open_store(filled_db) as store:
        recs = list(store.iter_records(None))
        store.replace_issues("schema", [(recs[0].id, [Issue("answer_ungrounded", "messages[4].content", "9 °C")])]
                             + [(r.id, []) for r in recs[1:]])
        t = FakeTeacher(name="fake:judge")
        t.enqueue(*[_reply(r.scenario) for r in recs[1:]])
        summary = validate_store(store, None, "judge", teacher=t)
        assert summary.records == len(recs) - 1 and len(t.requests) == len(recs) - 1
        judged = {r for (r,) in store.con.execute("SELECT record_id FROM judge_verdicts").fetchall()}
    assert recs[0].id not in judged and len(judged) == len(recs) - 1


def test_validate_file_uses_the_rubric_file_and_skips_rejected_records(tmp_path, sample_dicts):
    from toolforge.validate.service import ValidateConfig, run_validate

    rubric = tmp_path / "rubric.yaml"
    rubric.write_text("scenarios:\n  single_tool:\n    units_right: Units match what the user asked.\n")
    bad = json.loads(json.dumps(next(d for d in sample_dicts if d["scenario"] == "single_tool")))
    bad["messages"][-1]["content"] = "It is 9 °C in Oslo."  # answer_ungrounded: the judge is not asked
    f = tmp_path / "two.jsonl"
    good = next(d for d in sample_dicts if d["scenario"] == "single_tool")
    f.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    report = run_validate(ValidateConfig(file=str(f), judge="fake:", rubric=str(rubric)))
    judge_summary = next(s for s in report.summaries if s.stage == "judge")
    assert judge_summary.records == 1
    schema = next(s for s in report.summaries if s.stage == "schema")
    assert schema.codes["answer_ungrounded"] == 1
