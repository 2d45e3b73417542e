"""The runner against the fake: teacher and a real DuckDB file: exact counts, re-asks, retries, failures."""

from __future__ import annotations

import asyncio
import json

import duckdb
import pytest

from toolforge.backends.base import TransientError
from toolforge.backends.fake import FakeTeacher
from toolforge.errors import BackendError
from toolforge.generate.config import GenerateConfig
from toolforge.generate.runner import generate, normalise_request
from toolforge.record import SCENARIOS
from toolforge.store import open_store
from toolforge.validate import errors_only, validate_record


def attempts(db, run_id):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT outcome, reason, attempt, output FROM generation_attempts WHERE run_id = ? "
                           "ORDER BY created_at, job, attempt", [run_id]).fetchall()
    finally:
        con.close()


def test_exact_counts_for_every_scenario_and_all_valid(tmp_db):
    cfg = GenerateConfig(targets=dict.fromkeys(SCENARIOS, 6), teacher="fake:", seed=11, concurrency=5)
    s = generate(tmp_db, cfg)
    assert s.status == "done" and s.stored == dict.fromkeys(SCENARIOS, 6) and s.new_this_session == 42
    with open_store(tmp_db, read_only=True) as store:
        recs = list(store.iter_records())
        run = store.get_run(s.run_id)
    assert len(recs) == 42
    for r in recs:
        assert not errors_only(validate_record(r)), r.to_dict()
        assert r.meta["run_id"] == s.run_id and r.meta["teacher"] == "fake:"
    assert json.loads(run["config"])["seed"] == 11 and run["status"] == "done"
    rows = attempts(tmp_db, s.run_id)
    assert sum(1 for o, *_ in rows if o == "accepted") == 42
    assert len({normalise_request(r.first_user_text) for r in recs}) == 42


def test_same_seed_same_records(tmp_path):
    cfg = GenerateConfig(targets={"single_tool": 4, "error_recovery": 3}, teacher="fake:", seed=5, concurrency=1)
    ids = []
    for name in ("a", "b"):
        db = tmp_path / f"{name}.duckdb"
        generate(db, cfg)
        with open_store(db, read_only=True) as store:
            ids.append(sorted(store.select_ids()))
    assert ids[0] == ids[1]


def test_invalid_reply_is_reasked_with_its_issues_and_stored(tmp_db):
    t = FakeTeacher()
    t.enqueue('{"user": "truncated', {"user": "hello there friend", "turns": [[{"name": "no_such_tool",
                                                                          "arguments": {}, "result": {}}]],
                                       "answer": "ok"})
    cfg = GenerateConfig(targets={"single_tool": 1}, teacher="fake:", seed=1, concurrency=1, max_attempts=3)
    s = generate(tmp_db, cfg, teacher=t)
    assert s.stored == {"single_tool": 1}
    rows = attempts(tmp_db, s.run_id)
    assert [(o, r, a) for o, r, a, _ in rows] == [("rejected", "json_invalid", 1), ("rejected", "unknown_tool", 2),
                                                  ("accepted", None, 3)]
    assert rows[0][3] == '{"user": "truncated'
    third = t.requests[2].messages
    assert third[-2]["role"] == "assistant" and "no_such_tool" in third[-1]["content"]
    assert s.failures == {"json_invalid": 1, "unknown_tool": 1}


def test_a_reask_that_brings_back_the_same_reply_is_followed_by_a_fresh_ask(tmp_db):
    """Qwen2.5-Coder answered most re-asks with its rejected reply, copied from the context: the attempt after
    a repeated reply starts again from the first prompt, without the history."""
    bad = {"user": "hello there friend", "turns": [[{"name": "no_such_tool", "arguments": {}, "result": {}}]],
           "answer": "ok"}
    t = FakeTeacher()
    t.enqueue(bad, bad)
    cfg = GenerateConfig(targets={"single_tool": 1}, teacher="fake:", seed=1, concurrency=1, max_attempts=3)
    s = generate(tmp_db, cfg, teacher=t)
    assert s.stored == {"single_tool": 1}
    first, second, third = (r.messages for r in t.requests[:3])
    assert len(second) == len(first) + 2 and "no_such_tool" in second[-1]["content"]  # re-asked with its issues
    assert third == first  # the same reply came back: asked afresh


def test_a_request_that_repeats_the_reask_is_refused(tmp_db):
    """Qwen2.5-Coder answered a re-ask with its instruction as the user's message."""
    bad = {"user": "hello there friend", "turns": [[{"name": "no_such_tool", "arguments": {}, "result": {}}]],
           "answer": "ok"}
    t = FakeTeacher()
    # the issue message of the re-ask (Python text, not a prompt template the provenance index holds)
    t.enqueue(bad, {**bad, "user": "'no_such_tool' is not offered in this record, please check again"})
    cfg = GenerateConfig(targets={"single_tool": 1}, teacher="fake:", seed=1, concurrency=1, max_attempts=3)
    s = generate(tmp_db, cfg, teacher=t)
    assert s.stored == {"single_tool": 1}
    rows = attempts(tmp_db, s.run_id)
    assert [(o, r) for o, r, _, _ in rows] == [("rejected", "unknown_tool"), ("rejected", "prompt_leak"),
                                               ("accepted", None)]


def test_transport_errors_are_retried_with_retry_after(tmp_db, monkeypatch):
    delays = []
    real_sleep = asyncio.sleep

    async def fake_sleep(d, *a, **k):
        delays.append(d)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    t = FakeTeacher()
    t.enqueue(TransientError("http_429", "slow down", retry_after=7.0), TransientError("http_500", "boom"),
              TransientError("timeout", "no answer"))
    cfg = GenerateConfig(targets={"no_tool_needed": 1}, teacher="fake:", seed=1, concurrency=1, backoff_base=0.5)
    s = generate(tmp_db, cfg, teacher=t)
    assert s.stored == {"no_tool_needed": 1}
    assert s.failures == {"http_429": 1, "http_500": 1, "timeout": 1}
    assert 7.0 <= delays[0] <= 7.1                     # Retry-After honoured
    assert 0.5 <= delays[1] <= 1.0 and 1.0 <= delays[2] <= 2.0   # exponential backoff (base 0.5) with jitter


def test_jobs_that_never_succeed_are_stored_and_stop_the_run(tmp_db):
    t = FakeTeacher()
    t.enqueue(*["not json"] * 40)
    cfg = GenerateConfig(targets={"single_tool": 3}, teacher="fake:", seed=1, concurrency=1, max_attempts=2,
                         max_failed_jobs=2)
    with pytest.raises(BackendError):
        generate(tmp_db, cfg, teacher=t)
    with open_store(tmp_db, read_only=True) as store:
        rows = store.con.execute("SELECT outcome, reason, count(*) FROM generation_attempts GROUP BY ALL ORDER BY 1").fetchall()
        status = store.con.execute("SELECT status FROM runs").fetchone()[0]
    assert rows == [("gave_up", "json_invalid", 3), ("rejected", "json_invalid", 6)]
    assert status == "failed"


def test_near_duplicate_requests_are_regenerated(tmp_db):
    plan = {"user": "What is the capital of France?", "answer": "Paris."}
    t = FakeTeacher()
    t.enqueue(plan, {**plan, "user": "what is the capital of   FRANCE"})
    cfg = GenerateConfig(targets={"no_tool_needed": 2}, teacher="fake:", seed=1, concurrency=1)
    s = generate(tmp_db, cfg, teacher=t)
    assert s.stored == {"no_tool_needed": 2} and s.failures == {"near_duplicate": 1}


def test_records_already_stored_do_not_count(tmp_path):
    db = tmp_path / "s.duckdb"
    cfg = GenerateConfig(targets={"single_tool": 5}, teacher="fake:", seed=3, concurrency=2)
    generate(db, cfg)
    s2 = generate(db, cfg)  # same seed: the first jobs repeat records of run 1
    assert s2.stored == {"single_tool": 5}
    assert s2.failures.get("duplicate_id", 0) + s2.failures.get("near_duplicate", 0) >= 1
    with open_store(db, read_only=True) as store:
        assert store.count_records() == 10


def test_run_name_continues_the_run(tmp_db):
    cfg = GenerateConfig(targets={"single_tool": 3}, teacher="fake:", seed=2, run_name="nightly")
    a = generate(tmp_db, cfg)
    b = generate(tmp_db, cfg.model_copy(update={"targets": {"single_tool": 7}, "seed": None}))
    assert a.run_id == b.run_id and b.stored == {"single_tool": 7} and b.new_this_session == 4
    c = generate(tmp_db, GenerateConfig(targets={"single_tool": 1}, teacher="fake:"), resume=a.run_id)
    assert c.new_this_session == 0 and c.stored == {"single_tool": 7}
