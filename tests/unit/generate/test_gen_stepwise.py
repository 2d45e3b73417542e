"""Stepwise mode with a fake teacher and the real environment: request first, results from the environment,
every step stored as an attempt (results with their source), refusals re-asked, runs resumable."""

from __future__ import annotations

import json

import duckdb
import pytest

from toolforge.backends.fake import FakeTeacher
from toolforge.catalog import load_catalog
from toolforge.generate.config import GenerateConfig
from toolforge.generate.plan import make_job
from toolforge.generate.runner import generate
from toolforge.store import open_store
from toolforge.validate import errors_only, validate_record


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    from toolforge.catalog import resolve_catalog_path

    raw = json.loads(resolve_catalog_path("smol-tools").read_text())["tools"]  # with the catalog's result shapes
    tools = [t for t in raw if t["function"]["name"] in ("calculate", "get_weather")]
    path = tmp_path_factory.mktemp("cat") / "calc_weather.json"
    path.write_text(json.dumps({"name": "cw", "tools": tools}))
    return str(path)


def seed_for(scenario, catalog, name):
    tools = load_catalog(catalog).tools
    return next(s for s in range(500) if [t.name for t in make_job(scenario, 0, s, tools).callable] == [name])


def retry_seed(catalog):
    """A seed whose first error_recovery job retries get_weather."""
    tools = load_catalog(catalog).tools
    return next(sd for sd in range(500) if (j := make_job("error_recovery", 0, sd, tools)).recovery == "retry"
                and j.callable[0].name == "get_weather")


def steps(db, run_id):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT outcome, reason, detail, output FROM generation_attempts WHERE run_id = ? "
                           "ORDER BY created_at", [run_id]).fetchall()
    finally:
        con.close()


def run(db, catalog, scenario, seed, *replies, max_attempts=2):
    t = FakeTeacher()
    t.enqueue(*replies)
    cfg = GenerateConfig(targets={scenario: 1}, teacher="fake:", catalogs=[catalog], seed=seed, concurrency=1,
                         max_attempts=max_attempts, mode="stepwise")
    s = generate(db, cfg, teacher=t)
    with open_store(db, read_only=True) as store:
        recs = list(store.iter_records())
    return s, recs, steps(db, s.run_id), t


def test_a_safe_tool_result_comes_from_running_it_not_from_the_teacher(tmp_db, catalog):
    seed = seed_for("single_tool", catalog, "calculate")
    s, recs, rows, t = run(tmp_db, catalog, "single_tool", seed,
                           {"user": "What is 12.5% of 640 euros?"},
                           {"calls": [{"name": "calculate", "arguments": {"expression": "640 * 12.5 / 100"}}]},
                           {"answer": "12.5% of 640 euros is 80 euros."})
    assert s.stored == {"single_tool": 1}, s.failures
    (rec,) = recs
    assert rec.messages[3].content == json.dumps({"result": 80})  # computed by the safe tool, never written by the teacher
    assert rec.meta["mode"] == "stepwise" and rec.meta["result_sources"] == ["safe"]
    assert [r[1] for r in rows] == ["request", "calls[0]", "result:safe", "answer", None]
    stored = json.loads(rows[2][3])
    assert stored == {"call": {"name": "calculate", "arguments": {"expression": "640 * 12.5 / 100"}}, "source": "safe",
                      "error": False, "result": {"result": 80}}
    assert rows[-1][0] == "accepted"
    assert len(t.requests) == 3  # request, calls, answer: no simulator request for a safe tool
    assert not errors_only(validate_record(rec))


def test_a_simulated_result_and_a_copied_request_reasked_in_its_own_step(tmp_db, catalog):
    seed = seed_for("single_tool", catalog, "get_weather")
    s, recs, rows, t = run(tmp_db, catalog, "single_tool", seed,
                           {"user": "What's the weather in Lyon tomorrow? Metric please."},  # a few-shot example
                           {"user": "Is it snowing in Tromsø right now?"},
                           {"calls": [{"name": "get_weather", "arguments": {"city": "Tromsø"}}]},
                           {"city": "Tromsø", "temperature": -4, "units": "metric", "condition": "snow"},
                           {"answer": "Yes: it is snowing in Tromsø, at -4 °C."})
    (rec,) = recs
    assert rec.first_user_text == "Is it snowing in Tromsø right now?"
    assert rows[0][1] == "request" and rows[0][2].startswith("copied_example")
    sim = [json.loads(r[3]) for r in rows if r[1] == "result:simulated"]
    assert sim[0]["result"]["temperature"] == -4 and json.loads(rec.messages[3].content) == sim[0]["result"]
    # the simulator was asked with the tool's named result shape and the call
    sim_req = t.requests[3]
    assert "temperature" in sim_req.response_schema["properties"] and "Tromsø" in sim_req.messages[-1]["content"]


def test_error_recovery_fails_first_then_retries_with_fixed_arguments(tmp_db, catalog):
    seed = retry_seed(catalog)
    s, recs, rows, _ = run(tmp_db, catalog, "error_recovery", seed,
                           {"user": "Weather in Bostn, Massachusetts today?"},
                           {"calls": [{"name": "get_weather", "arguments": {"city": "Bostn"}}]},
                           {"error": "city_not_found", "message": "No city named Bostn"},
                           {"calls": [{"name": "get_weather", "arguments": {"city": "Boston, Massachusetts"}}]},
                           {"city": "Boston, Massachusetts", "temperature": 9, "units": "metric", "condition": "windy"},
                           {"answer": "Boston, Massachusetts is windy today at 9 °C."})
    assert s.stored == {"error_recovery": 1}, s.failures
    (rec,) = recs
    sources = [json.loads(r[3])["source"] for r in rows if r[1] and r[1].startswith("result:")]
    assert sources == ["forced_error", "simulated"]
    assert json.loads(rec.messages[3].content)["error"] == "city_not_found"
    assert rec.messages[4].tool_calls[0].function.arguments == {"city": "Boston, Massachusetts"}


def test_a_retry_that_repeats_the_failed_call_is_reasked_in_its_step_with_the_reason(tmp_db, catalog):
    """Qwen2.5-Coder repeated the failed call unchanged in 3 of 4 error_recovery tries: the step says why and
    asks again, instead of the whole conversation failing validation (retry_unchanged) afterwards."""
    seed = retry_seed(catalog)
    s, recs, rows, t = run(tmp_db, catalog, "error_recovery", seed,
                           {"user": "Weather in Bostn, Massachusetts today?"},
                           {"calls": [{"name": "get_weather", "arguments": {"city": "Bostn"}}]},
                           {"error": "city_not_found", "message": "No city named Bostn"},
                           {"calls": [{"name": "get_weather", "arguments": {"city": "Bostn"}}]},  # the same again
                           {"calls": [{"name": "get_weather", "arguments": {"city": "Boston, Massachusetts"}}]},
                           {"city": "Boston, Massachusetts", "temperature": 9, "units": "metric", "condition": "windy"},
                           {"answer": "Boston, Massachusetts is windy today at 9 °C."}, max_attempts=1)
    assert s.stored == {"error_recovery": 1}, s.failures
    refused = [r for r in rows if r[1] == "calls[1]" and r[2]]
    assert len(refused) == 1 and refused[0][2].startswith("retry_unchanged:")
    reask = t.requests[4].messages[-1]["content"]  # the retry step asked again, saying why
    assert "failed with exactly these arguments" in reask
    assert recs[0].messages[4].tool_calls[0].function.arguments == {"city": "Boston, Massachusetts"}


def test_an_optional_extra_step_without_a_new_call_ends_the_calls_instead_of_the_conversation(tmp_db, catalog):
    """multi_tool_sequential allows 2-3 steps; Qwen2.5-Coder answered the optional third with a call it had made."""
    seed = next(sd for sd in range(500) if [t.name for t in make_job("multi_tool_sequential", 0, sd,
                                                                      load_catalog(catalog).tools).callable]
                == ["get_weather", "calculate"])
    again = {"calls": [{"name": "calculate", "arguments": {"expression": "20 - 4"}}]}
    s, recs, rows, _ = run(tmp_db, catalog, "multi_tool_sequential", seed,
                           {"user": "How warm is it in Oslo right now, and how far below 20 degrees is that?"},
                           {"calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
                           {"city": "Oslo", "temperature": 4, "units": "metric", "condition": "rain"},
                           again, again, again,  # the optional third step: the same call, twice refused
                           {"answer": "Oslo has rain at 4 °C, 16 degrees below 20."}, max_attempts=1)
    assert s.stored == {"multi_tool_sequential": 1}, s.failures
    assert [r[2].split(":")[0] for r in rows if r[1] == "calls[2]"] == ["repeated_call", "repeated_call"]
    assert [m.role for m in recs[0].messages] == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]


def test_stepwise_runs_resume_where_they_stopped(tmp_path):
    db = tmp_path / "r.duckdb"
    base = dict(teacher="fake:", seed=4, concurrency=1, max_attempts=4, mode="stepwise", run_name="sw")
    s1 = generate(db, GenerateConfig(targets={"single_tool": 1, "multi_tool_parallel": 1}, **base))
    assert s1.stored == {"single_tool": 1, "multi_tool_parallel": 1}, s1.failures
    s2 = generate(db, GenerateConfig(targets={"single_tool": 2, "multi_tool_parallel": 2}, **base))
    assert s2.run_id == s1.run_id and s2.stored == {"single_tool": 2, "multi_tool_parallel": 2} and s2.new_this_session == 2
    con = duckdb.connect(str(db), read_only=True)
    try:
        jobs = con.execute("SELECT scenario, job FROM generation_attempts WHERE outcome = 'accepted' ORDER BY 1, 2").fetchall()
        par = con.execute("SELECT messages FROM records WHERE scenario = 'multi_tool_parallel'").fetchall()
    finally:
        con.close()
    assert len(set(jobs)) == 4  # the resumed run went on with new job indexes
    for (messages,) in par:
        first = next(m for m in json.loads(messages) if m.get("tool_calls"))
        assert len(first["tool_calls"]) >= 2
