"""Issue #19's planted faults: the generation pipeline refuses or avoids each one (fake: teacher, real DuckDB file).

Faults: an exact call count forced on the request, a distractor the request needs, a copied few-shot
example, a leaked persona line, a cut answer, a control character in the teacher's reply.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from toolforge.backends.fake import FakeTeacher
from toolforge.catalog import load_catalog
from toolforge.generate.config import GenerateConfig
from toolforge.generate.plan import make_job, pick_distractors
from toolforge.generate.runner import generate
from toolforge.generate.schema import ANSWER_MAX, calls_schema, plan_schema
from toolforge.generate.seeds import load_seeds
from toolforge.store import open_store

TRANSLATE = {"user": "Please translate 'good morning, team' into French (fr).",
             "turns": [[{"name": "translate", "arguments": {"text": "good morning, team", "target_language": "fr"},
                         "result": {"translation": "Bonjour, l'équipe"}}]],
             "answer": "In French (fr), 'good morning, team' is: Bonjour, l'équipe."}


@pytest.fixture(scope="module")
def pair_catalog(tmp_path_factory):
    tools = [t.model_dump(exclude_none=True) for t in load_catalog("smol-tools").tools
             if t.function.name in ("translate", "get_weather")]
    path = tmp_path_factory.mktemp("cat") / "pair.json"
    path.write_text(json.dumps({"name": "pair", "tools": tools}))
    return str(path)


def seed_with(scenario, catalog_path, callable_name, distractor_name):
    """A run seed whose job 0 may call ``callable_name`` and offers ``distractor_name`` as a distractor."""
    tools = load_catalog(catalog_path).tools
    for seed in range(500):
        j = make_job(scenario, 0, seed, tools)
        if [t.name for t in j.callable] == [callable_name] and [t.name for t in j.distractors] == [distractor_name]:
            return seed, j
    raise AssertionError("no such seed")


def rows(db, run_id):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT outcome, reason, detail FROM generation_attempts WHERE run_id = ? "
                           "ORDER BY created_at, attempt", [run_id]).fetchall()
    finally:
        con.close()


def run_oneshot(tmp_db, catalog, seed, *replies, scenario="single_tool"):
    t = FakeTeacher()
    t.enqueue(*replies)
    cfg = GenerateConfig(targets={scenario: 1}, teacher="fake:", catalogs=[catalog], seed=seed, concurrency=1,
                         max_attempts=len(replies), mode="oneshot")
    s = generate(tmp_db, cfg, teacher=t)
    with open_store(tmp_db, read_only=True) as store:
        recs = list(store.iter_records())
    return s, recs, rows(tmp_db, s.run_id), t


def test_a_request_that_needs_a_distractor_is_reasked(tmp_db, pair_catalog):
    seed, _ = seed_with("single_tool", pair_catalog, "translate", "get_weather")
    needs_weather = {**TRANSLATE, "user": "Will it rain in Oslo tomorrow? And translate 'good morning, team' into French (fr)."}
    s, recs, r, _ = run_oneshot(tmp_db, pair_catalog, seed, needs_weather, TRANSLATE)
    assert r[0][:2] == ("rejected", "distractor_needed") and "get_weather" in r[0][2]
    assert r[1][0] == "accepted" and len(recs) == 1 and "rain" not in recs[0].first_user_text


def test_stepwise_draws_distractors_only_from_tools_the_request_does_not_need():
    tools = load_catalog("smol-tools").tools
    seeds = load_seeds()
    for i in range(40):
        j = make_job("single_tool", i, 3, tools)
        pick_distractors(j, "What's the weather in Oslo, and could you email the forecast to my team?", seeds)
        names = {t.name for t in j.distractors}
        assert not names & {"get_weather", "send_email"}, names
        assert len(j.distractors) <= j.n_distractors and {t.name for t in j.tools} >= {t.name for t in j.callable}


def test_a_copied_example_is_refused_and_its_own_twin_is_kept(tmp_db, pair_catalog):
    seed, _ = seed_with("single_tool", pair_catalog, "translate", "get_weather")
    copied = {"user": "translate 'the meeting moved to friday' into german (de)",
              "turns": [[{"name": "translate", "arguments": {"text": "the meeting moved to friday", "target_language": "de"},
                          "result": {"translation": "Das Meeting wurde auf Freitag verschoben."}}]],
              "answer": "In German (de): Das Meeting wurde auf Freitag verschoben."}
    s, recs, r, _ = run_oneshot(tmp_db, pair_catalog, seed, copied, TRANSLATE)
    assert r[0][:2] == ("rejected", "copied_example") and "single_tool example" in r[0][2]
    assert r[1][0] == "accepted" and recs[0].first_user_text == TRANSLATE["user"]


def test_a_leaked_persona_line_is_refused(tmp_db, pair_catalog):
    seed, job = seed_with("single_tool", pair_catalog, "translate", "get_weather")
    leaked = {**TRANSLATE, "user": f"{job.persona[0].upper()}{job.persona[1:]}. 'good morning, team' in French (fr)?"}
    s, recs, r, _ = run_oneshot(tmp_db, pair_catalog, seed, leaked, TRANSLATE)
    assert r[0][:2] == ("rejected", "prompt_leak") and "persona line" in r[0][2]
    assert len(recs) == 1 and recs[0].first_user_text == TRANSLATE["user"]


def test_control_characters_raw_or_escaped_are_refused(tmp_db, pair_catalog):
    seed, _ = seed_with("single_tool", pair_catalog, "translate", "get_weather")
    raw = json.dumps(TRANSLATE).replace("good morning, team", "good\x01morning, team", 1)
    escaped = json.dumps({**TRANSLATE, "answer": TRANSLATE["answer"] + "\u0007"})
    s, recs, r, _ = run_oneshot(tmp_db, pair_catalog, seed, raw, escaped, TRANSLATE)
    assert [x[1] for x in r[:2]] == ["json_invalid", "control_char"]
    assert len(recs) == 1 and "\x07" not in recs[0].messages[-1].content


def test_a_long_answer_is_kept_whole(tmp_db, pair_catalog):
    seed, _ = seed_with("single_tool", pair_catalog, "translate", "get_weather")
    long_answer = ("In French (fr), 'good morning, team' is: Bonjour, l'équipe. " * 12).strip()
    assert 600 < len(long_answer) <= ANSWER_MAX
    s, recs, r, t = run_oneshot(tmp_db, pair_catalog, seed, {**TRANSLATE, "answer": long_answer})
    assert recs[0].messages[-1].content == long_answer and long_answer.endswith(".")
    assert t.requests[0].response_schema["properties"]["answer"]["maxLength"] >= 1000


def test_call_counts_are_bounds_that_the_request_fills():
    tools = load_catalog("smol-tools").tools
    turn = plan_schema("multi_tool_parallel", tools[:1])["properties"]["turns"]["items"]
    assert turn["minItems"] == 2 and turn["maxItems"] >= 4  # "two or more", never "exactly N"
    seq = plan_schema("multi_tool_sequential", tools[:2])["properties"]["turns"]
    assert seq["minItems"] == 2 and seq["maxItems"] == 3
    step = calls_schema(tools[:2], (2, 4))
    assert step["properties"]["calls"]["minItems"] == 2 and step["properties"]["calls"]["maxItems"] == 4
    done = calls_schema(tools[:2], (1, 1), allow_done=True)  # a later sequential step may end the chain
    assert {"done"} in [set(b["properties"]) for b in done["anyOf"]]


def test_a_two_call_and_a_three_call_parallel_request_are_both_kept(tmp_path):
    tools = [t.model_dump(exclude_none=True) for t in load_catalog("smol-tools").tools if t.function.name == "translate"]
    cat = tmp_path / "one.json"
    cat.write_text(json.dumps({"name": "one", "tools": tools}))

    def plan(langs):
        calls = [{"name": "translate", "arguments": {"text": "closed today", "target_language": code},
                  "result": {"translation": word}} for code, word in langs]
        names = " and ".join(f"{code}" for code, _ in langs)
        return {"user": f"Translate 'closed today' into {names}.", "turns": [calls],
                "answer": "Here they are: " + "; ".join(f"{code}: {word}" for code, word in langs) + "."}

    for i, langs in enumerate(([("fr", "Fermé aujourd'hui"), ("de", "Heute geschlossen")],
                               [("fr", "Fermé aujourd'hui"), ("de", "Heute geschlossen"), ("it", "Chiuso oggi")])):
        db = tmp_path / f"p{i}.duckdb"
        t = FakeTeacher()
        t.enqueue(plan(langs))
        s = generate(db, GenerateConfig(targets={"multi_tool_parallel": 1}, teacher="fake:", catalogs=[str(cat)],
                                        seed=1, max_attempts=1, mode="oneshot"), teacher=t)
        with open_store(db, read_only=True) as store:
            (rec,) = list(store.iter_records())
        assert len(rec.messages[2].tool_calls) == len(langs), s.failures
