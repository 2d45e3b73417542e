"""`toolforge generate --mode session` end to end: the fake: teacher through the real CLI, store and
environment; the records through validate/stats/export/report; bad round bounds; SIGKILL then resume;
the runner's retries on a failing teacher; a scripted five-round session that passes every validator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from tests.conftest import ROOT
from tests.fixtures import session_tools
from tests.helpers import store_digest

pytestmark = pytest.mark.integration


def rows(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def check_sessions(db, n, lo, hi, run_id):
    """Every stored record is a session of ``lo..hi`` rounds, with its accepted attempt and environment results."""
    recs = rows(db, "SELECT id, scenario, messages, meta FROM records")
    assert len(recs) == n and len({r[0] for r in recs}) == n
    accepted = rows(db, "SELECT record_id, scenario, job FROM generation_attempts WHERE outcome = 'accepted'")
    assert sorted(a[0] for a in accepted) == sorted(r[0] for r in recs)  # one accepted row per record, no orphan
    assert {a[1] for a in accepted} == {"session"}
    jobs = []
    for rid, scenario, messages, meta in recs:
        messages, meta = json.loads(messages), json.loads(meta)
        assert scenario is None and meta["mode"] == "session" and lo <= meta["rounds"] <= hi
        assert meta["run_id"] == run_id and meta["persona"] and meta["goal"] and meta["ended"]
        assert sum(m["role"] == "user" for m in messages) == meta["rounds"]
        tool_msgs = [m for m in messages if m["role"] == "tool"]
        assert len(meta["result_sources"]) == len(tool_msgs)
        # each tool message is a result the environment gave, stored as a step of this session's job
        stored = [json.loads(o) for (o,) in rows(
            db, "SELECT output FROM generation_attempts WHERE scenario = 'session' AND job = ? AND outcome = 'step' "
                "AND reason LIKE 'result:%'", [meta["session"]])]
        for m, source in zip(tool_msgs, meta["result_sources"], strict=True):
            assert any(s["result"] == json.loads(m["content"]) and s["call"]["name"] == m["name"]
                       and s["source"] == source for s in stored), m
        assert {s["source"] for s in stored} <= {"mock", "world", "safe", "simulated"}
        jobs.append(meta["session"])
    assert len(set(jobs)) == n
    return recs


def test_sessions_with_the_fake_teacher_then_validate_stats_export_report(run_cli, tmp_db, tmp_path):
    proc = run_cli("generate", "--mode", "session", "--n", "3", "--min-rounds", "3", "--max-rounds", "4",
                   "--teacher", "fake:", "--seed", "5", "--db", tmp_db, "--json", check=True)
    summary = json.loads(proc.stdout)
    assert summary["stored"] == {"session": 3} and summary["targets"] == {"session": 3}
    assert summary["status"] == "done"
    check_sessions(tmp_db, 3, 3, 4, summary["run_id"])
    (cfg,) = rows(tmp_db, "SELECT config FROM runs")
    cfg = json.loads(cfg[0])
    assert cfg["mode"] == "session" and (cfg["min_rounds"], cfg["max_rounds"]) == (3, 4)

    from toolforge.record import Record
    from toolforge.store import open_store

    with open_store(tmp_db) as store:  # an imported record without a scenario stays in its own group
        store.upsert_records([Record.model_validate({"messages": [
            {"role": "user", "content": "Hello there"}, {"role": "assistant", "content": "Hi! How can I help?"}]})],
            source="import")
    run_cli("validate", "--db", tmp_db, check=True)
    stats = json.loads(run_cli("stats", "--db", tmp_db, "--json", check=True).stdout)
    assert [(r["scenario"], r["total"]) for r in stats["records"]["by_scenario"]] == [("(none)", 1), ("session", 3)]
    assert [r["scenario"] for r in stats["validation"]["by_scenario"]] == ["(none)", "session"]
    for fmt in ("trl", "openai", "sharegpt"):
        out = tmp_path / f"out-{fmt}"
        run_cli("export", "--format", fmt, "--out", out, "--db", tmp_db, check=True)
        files = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".parquet")]
        assert files, fmt
        if fmt != "trl":
            lines = [json.loads(x) for p in files for x in p.read_text().splitlines()]
            assert len(lines) == 4
            turns = [x["messages"] if fmt == "openai" else x["conversations"] for x in lines]
            users = sorted(sum(m.get("role", m.get("from")) in ("user", "human") for m in t) for t in turns)
            assert users[0] == 1 and users[1] >= 3  # the imported record, then every session's rounds
    only = json.loads(run_cli("stats", "-s", "session", "--db", tmp_db, "--json", check=True).stdout)
    assert [(r["scenario"], r["total"]) for r in only["records"]["by_scenario"]] == [("session", 3)]
    out = tmp_path / "only-sessions"
    run_cli("export", "-s", "session", "--format", "openai", "--out", out, "--db", tmp_db, check=True)
    assert len(list((out / "train.jsonl").read_text().splitlines())) == 3
    report = tmp_path / "report.html"
    run_cli("report", "--db", tmp_db, "--out", report, check=True)
    assert "session" in report.read_text()


def test_multi_turn_scenario_and_recipe_are_sessions(run_cli, tmp_db, tmp_path):
    proc = run_cli("generate", "-s", "multi_turn", "--n", "2", "--min-rounds", "3", "--max-rounds", "3",
                   "--teacher", "fake:", "--seed", "6", "--db", tmp_db, "--json", check=True)
    summary = json.loads(proc.stdout)
    assert summary["stored"] == {"session": 2}
    check_sessions(tmp_db, 2, 3, 3, summary["run_id"])
    recipe = tmp_path / "mt.yaml"
    recipe.write_text("name: mt\ngenerate:\n  scenarios: {multi_turn: 2}\n  min_rounds: 4\n  max_rounds: 4\n"
                      "  teacher: 'fake:'\n  seed: 3\n")
    db2 = tmp_path / "r.duckdb"
    proc = run_cli("generate", "--recipe", recipe, "--db", db2, "--json", check=True)
    summary = json.loads(proc.stdout)
    assert summary["stored"] == {"session": 2}
    check_sessions(db2, 2, 4, 4, summary["run_id"])


@pytest.mark.parametrize("args, needle", [
    (["--mode", "session", "--min-rounds", "2"], "--min-rounds 2: a session has 3 to 20 rounds"),
    (["--mode", "session", "--max-rounds", "21"], "--max-rounds 21: a session has 3 to 20 rounds"),
    (["--mode", "session", "--min-rounds", "9", "--max-rounds", "6"], "--min-rounds 9 is more than --max-rounds 6"),
    (["--mode", "session", "--min-rounds", "9"], "min_rounds (9) is more than max_rounds (8)"),
    (["--min-rounds", "5"], "--min-rounds/--max-rounds are for sessions"),
    (["-s", "multi_turn", "-s", "single_tool"], "sessions are generated alone"),
    (["--mode", "session", "-s", "single_tool"], "sessions are generated alone"),
    (["-s", "multi_turn", "--mode", "oneshot"], "session mode"),
    (["--mode", "bogus"], "choose oneshot, stepwise, session or auto"),
])
def test_bad_session_options_one_line_error_store_unchanged(run_cli, filled_db, args, needle):
    before = store_digest(filled_db)
    proc = run_cli("generate", "--n", "1", "--teacher", "fake:", "--db", filled_db, *args)
    assert proc.returncode == 2, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("error: ") and needle in first, proc.stderr
    assert "Traceback" not in proc.stderr
    assert store_digest(filled_db) == before


def test_sigkill_then_resume_ends_with_exactly_n_sessions(run_cli, tmp_db):
    n = 12
    args = ["generate", "--mode", "session", "--n", str(n), "--min-rounds", "3", "--max-rounds", "3",
            "--teacher", "fake:", "--teacher-option", "latency=0.05", "--concurrency", "2", "--seed", "9",
            "--run-name", "nightly-sessions", "--db", str(tmp_db)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOOLFORGE_PROGRESS_INTERVAL": "0.2"}
    proc = subprocess.Popen([sys.executable, "-m", "toolforge", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen: list[int] = []

    def read() -> None:  # the progress lines: "generate: K/N accepted, ..."
        assert proc.stderr is not None
        for line in proc.stderr:
            if "accepted" in line:
                seen.append(int(line.split(":", 1)[1].split("/", 1)[0]))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (seen and seen[-1] >= 3) and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(1.5)  # accepted sessions are written within a second
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    (n_rec,) = rows(tmp_db, "SELECT count(*) FROM records")[0]
    assert 0 < n_rec < n, n_rec  # killed mid-run, with something stored
    runs = rows(tmp_db, "SELECT id, status FROM runs")
    assert len(runs) == 1 and runs[0][1] == "running"
    check_sessions(tmp_db, n_rec, 3, 3, runs[0][0])
    jobs_before = {j for (j,) in rows(tmp_db, "SELECT DISTINCT job FROM generation_attempts")}

    # --resume continues the run with its stored config: new sessions start after the last job
    done = run_cli("generate", "--resume", runs[0][0], "--db", tmp_db, "--json", check=True)
    summary = json.loads(done.stdout)
    assert summary["run_id"] == runs[0][0] and summary["status"] == "done" and summary["stored"] == {"session": n}
    assert summary["new"] == n - n_rec
    check_sessions(tmp_db, n, 3, 3, runs[0][0])
    new_jobs = {j for (j,) in rows(tmp_db, "SELECT json_extract(meta, '$.session')::INT FROM records")} - jobs_before
    assert new_jobs and min(new_jobs) > max(jobs_before)
    again = json.loads(run_cli(*args, "--json", check=True).stdout)  # the same --run-name: nothing left to do
    assert again["new"] == 0 and again["stored"] == {"session": n}
    assert rows(tmp_db, "SELECT count(*) FROM records")[0][0] == n


def test_failed_requests_are_retried_with_backoff(tmp_db):
    from toolforge.backends.base import TransientError
    from toolforge.backends.fake import FakeTeacher
    from toolforge.generate.config import GenerateConfig
    from toolforge.generate.runner import generate

    teacher = FakeTeacher(name="fake:")
    teacher.enqueue(TransientError("http_429", "too many requests", retry_after=0.01),
                    TransientError("http_503", "unavailable"), TransientError("timeout", "read timed out"))
    cfg = GenerateConfig(targets={"session": 2}, mode="session", min_rounds=3, max_rounds=3, teacher="fake:",
                         seed=1, concurrency=1, backoff_base=0.01)
    summary = generate(tmp_db, cfg, teacher=teacher)
    assert summary.stored == {"session": 2} and summary.status == "done"
    transport = rows(tmp_db, "SELECT scenario, job, reason FROM generation_attempts WHERE outcome = 'transport' "
                             "ORDER BY created_at")
    assert [r[2] for r in transport] == ["http_429", "http_503", "timeout"]
    assert {(r[0], r[1]) for r in transport} == {("session", 0)}  # the first session's first request, retried
    first_steps = rows(tmp_db, "SELECT reason FROM generation_attempts WHERE job = 0 AND outcome = 'step' "
                               "ORDER BY created_at LIMIT 1")
    assert first_steps == [("user",)]  # and then answered
    check_sessions(tmp_db, 2, 3, 3, summary.run_id)


def test_a_session_over_http_with_injected_faults(fault_server, run_cli, tmp_db):
    """The openai: backend against a loopback server answering 429 (Retry-After), 500, timeouts and cut-off
    JSON: every transport fault of the user, assistant and tool-simulator requests is retried and stored."""
    import httpx

    proc = run_cli("generate", "--mode", "session", "--n", "1", "--min-rounds", "3", "--max-rounds", "3",
                   "--teacher", f"openai:stub@{fault_server}", "--teacher-option", "timeout=1.0", "--form-only",
                   "--concurrency", "1", "--seed", "3", "--db", tmp_db, "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["stored"] == {"session": 1}
    injected = httpx.get(f"{fault_server}/stats").json()
    for fault in ("http_429", "http_500", "timeout", "truncated"):
        assert injected.get(fault, 0) >= 1, injected
    transport = dict(rows(tmp_db, "SELECT reason, count(*) FROM generation_attempts WHERE outcome = 'transport' "
                                  "GROUP BY reason"))
    assert transport == {k: injected[k] for k in ("http_429", "http_500", "timeout")}, (transport, injected)
    check_sessions(tmp_db, 1, 3, 3, summary["run_id"])


TOOLS = session_tools.TOOLS[:2]  # get_weather, search_restaurants


def user(msg):
    return {"message": msg, "goal_met": False, "abandon": False}


def calls(*cs):
    return {"calls": [{"name": n, "arguments": a} for n, a in cs]}


def test_a_scripted_five_round_session_through_the_runner_passes_every_validator(tmp_db, tmp_path):
    """The runner path with the real Environment (the user's mock module), every check on in the accept step,
    and one round answered with an invented figure: re-asked, stored as a rejected attempt, not in the record."""
    from toolforge.backends.fake import FakeTeacher
    from toolforge.generate.config import GenerateConfig
    from toolforge.generate.runner import generate
    from toolforge.store import open_store
    from toolforge.validate import validate_record

    (tmp_path / "cat.json").write_text(json.dumps({"name": "two", "tools": TOOLS}))
    t = FakeTeacher(name="fake:scripted")
    t.enqueue(user("What's the weather in Lisbon today?"), calls(("get_weather", {"city": "Lisbon"})),
              {"answer": "It is 25 °C in Lisbon."},                      # invented: rejected, the round re-asked
              calls(("get_weather", {"city": "Lisbon"})), {"answer": "It is 21 °C in Lisbon."},
              user("And in Porto?"), calls(("get_weather", {"city": "Porto"})), {"answer": "Porto is cooler: 17 °C."},
              user("Find me an Italian restaurant in Porto."),
              calls(("search_restaurants", {"city": "Porto", "cuisine": "Italian"})),
              {"answer": "Try Trattoria Bellavista (id r-88), about 30 euros per person."},
              user("Is it warmer in Lisbon in Fahrenheit?"), calls(("get_weather", {"city": "Lisbon", "units": "imperial"})),
              {"answer": "Lisbon is at 70 °F right now."},
              user("Thanks. Any restaurant in Lisbon?"), calls(("search_restaurants", {"city": "Lisbon"})),
              {"answer": "Trattoria Bellavista (id r-88) is one, about 30 euros per person."},
              {"message": "", "goal_met": True, "abandon": False})
    cfg = GenerateConfig(targets={"multi_turn": 1}, min_rounds=5, max_rounds=6, teacher="fake:scripted",
                         catalogs=[str(tmp_path / "cat.json")], mock=str(session_tools.PATH), seed=1,
                         concurrency=1, meaning_checks=True)
    assert cfg.mode == "session" and cfg.targets == {"session": 1}
    summary = generate(tmp_db, cfg, teacher=t)
    assert summary.stored == {"session": 1}, summary
    assert not t.queue  # every scripted reply was used, in order
    with open_store(tmp_db, read_only=True) as store:
        (rec,) = list(store.iter_records())
    assert rec.scenario is None and rec.meta["rounds"] == 5 and rec.meta["ended"] == "goal_met"
    assert validate_record(rec) == []  # structure, arguments, grounding, provenance: the whole session
    assert rec.meta["result_sources"] == ["mock"] * 5
    assert [m.content for m in rec.messages if m.role == "tool"][0] == json.dumps({"temp": 21, "unit": "C"})
    assert "25 °C" not in json.dumps(rec.to_dict(), ensure_ascii=False)
    rejected = rows(tmp_db, "SELECT attempt, reason, detail FROM generation_attempts WHERE outcome = 'rejected'")
    assert len(rejected) == 1 and rejected[0][0] == 1 and rejected[0][1] == "answer_ungrounded"
    assert "round 1, attempt 1" in rejected[0][2]
    check_sessions(tmp_db, 1, 5, 5, summary.run_id)
