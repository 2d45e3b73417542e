"""Multi-turn sessions: a scripted teacher (the registered fake: backend) plays the user and the assistant,
a user's mock module answers the calls through the real Environment, and every round is validated."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.fixtures import session_tools
from toolforge.backends.fake import FakeTeacher
from toolforge.environment import Environment, load_mock
from toolforge.errors import UsageError
from toolforge.generate.session import SessionSpec, run_session
from toolforge.record import Tool
from toolforge.validate import validate_record
from toolforge.validate.grounding import GROUNDING_CODES

TOOLS = [Tool.model_validate(t) for t in session_tools.TOOLS]
MOCK = load_mock(session_tools.PATH)  # the mock module as --mock loads it


def user(msg):
    return {"message": msg, "goal_met": False, "abandon": False}


def calls(*cs):
    return {"calls": [{"name": n, "arguments": a} for n, a in cs]}


def answer(text):
    return {"answer": text}


ROUNDS = [
    (user("What's the weather in Lisbon today?"), calls(("get_weather", {"city": "Lisbon"})),
     answer("It is 21 °C in Lisbon.")),
    (user("And in Porto?"), calls(("get_weather", {"city": "Porto"})), answer("Porto is cooler: 17 °C.")),
    (user("Find me an Italian restaurant in Porto."), calls(("search_restaurants", {"city": "Porto", "cuisine": "Italian"})),
     answer("Try Trattoria Bellavista (id r-88), about 30 euros per person.")),
    (user("How much is 30 euros in US dollars?"),
     calls(("convert_currency", {"amount": 30, "from_currency": "EUR", "to_currency": "USD"})),
     answer("30 EUR is 32.4 USD at a rate of 1.08.")),
    (user("Which is warmer in Fahrenheit, Lisbon or Porto?"),
     calls(("get_weather", {"city": "Lisbon", "units": "imperial"}), ("get_weather", {"city": "Porto", "units": "imperial"})),
     answer("Lisbon is warmer: 70 °F against 63 °F in Porto.")),
]


def _teacher(rounds, end=True):
    t = FakeTeacher(name="fake:session")
    for u, c, a in rounds:
        t.enqueue(u, c, a)
    if end:
        t.enqueue({"message": "", "goal_met": True, "abandon": False})
    return t


def _run(teacher, **spec):
    env = Environment(TOOLS, mock=MOCK, run_safe=False)
    try:
        return asyncio.run(run_session(teacher, TOOLS, env, SessionSpec(
            persona="a travel blogger on a tight schedule", goal="plan a day in Porto", **spec)))
    finally:
        env.close()


def test_a_five_round_session_passes_every_validator():
    teacher = _teacher(ROUNDS)
    out = _run(teacher, min_rounds=5, max_rounds=8)
    assert out.ended == "goal_met" and out.rounds == 5
    rec = out.record
    assert rec is not None
    d = rec.to_dict()
    users = [m for m in d["messages"] if m["role"] == "user"]
    assert len(users) == 5
    assert validate_record(d) == []                       # structure, arguments and grounding, whole session
    assert d["meta"]["mode"] == "session" and d["meta"]["rounds"] == 5
    assert d["meta"]["result_sources"] == ["mock"] * 6      # every result came from the environment, not the teacher
    tool_msgs = [json.loads(m["content"]) for m in d["messages"] if m["role"] == "tool"]
    assert tool_msgs[0] == {"temp": 21, "unit": "C"} and tool_msgs[-1] == {"temp": 63, "unit": "F"}
    # the simulator saw the conversation so far, and the assistant the tool results
    prompts = [r.messages[-1]["content"] for r in teacher.requests]
    assert len(prompts) == 16  # 5 rounds x (user, calls, answer) + the user ending the session
    assert "[tool get_weather]" in prompts[2] and '"temp": 21' in prompts[2]
    assert "[user] What's the weather in Lisbon today?" in prompts[3] and "plan a day in Porto" in prompts[3]


def test_a_round_with_an_invented_figure_is_reasked():
    bad = (ROUNDS[0][0], ROUNDS[0][1], answer("It is 25 °C in Lisbon."))
    t = FakeTeacher(name="fake:session")
    t.enqueue(*bad, ROUNDS[0][1], ROUNDS[0][2])  # rejected, then the same round again, right
    for u, c, a in ROUNDS[1:3]:
        t.enqueue(u, c, a)
    t.enqueue({"message": "", "goal_met": True, "abandon": False})
    out = _run(t, min_rounds=3, max_rounds=5)
    assert out.record is not None and out.rounds == 3
    rejected = [a for a in out.attempts if a["outcome"] == "rejected"]
    assert rejected == [{"role": "assistant", "round": 0, "attempt": 1, "outcome": "rejected",
                         "reason": "answer_ungrounded"}]
    reask = t.requests[3].messages[-1]["content"]
    assert "25" in reask  # the re-ask quotes the issue
    assert not {i.code for i in validate_record(out.record.to_dict())} & set(GROUNDING_CODES)


def test_a_session_that_ends_too_early_gives_no_record():
    t = FakeTeacher(name="fake:session")
    for u, c, a in ROUNDS[:2]:
        t.enqueue(u, c, a)
    t.enqueue(*[{"message": "", "goal_met": True, "abandon": False}] * 3)  # wants to stop at round 3 of min 4
    out = _run(t, min_rounds=4, max_rounds=6)
    assert out.record is None and out.rounds == 2 and out.ended == "user_failed"


def test_rounds_are_bounded():
    with pytest.raises(UsageError):
        SessionSpec(persona="p", goal="g", min_rounds=2)
    with pytest.raises(UsageError):
        SessionSpec(persona="p", goal="g", min_rounds=5, max_rounds=21)


def test_sessions_are_stored_and_resumed(tmp_db):
    from toolforge.generate.session import generate_sessions
    from toolforge.store import open_store

    specs = [SessionSpec(persona="a travel blogger", goal=f"plan day {i}", min_rounds=3, max_rounds=4, seed=i)
             for i in range(3)]
    env = Environment(TOOLS, mock=MOCK, run_safe=False)
    try:
        with open_store(tmp_db) as store:
            t = _teacher(ROUNDS[:3])
            first = generate_sessions(store, t, TOOLS, env, specs[:1], run_id="s1")
            assert first == {"stored": 1, "skipped": 0, "goal_met": 1}
            again = generate_sessions(store, _teacher(ROUNDS[1:4]), TOOLS, env, specs[:2], run_id="s1")
            assert again["skipped"] == 1 and again["stored"] == 1  # session 0 is not asked again
            rows = store.con.execute("SELECT meta->>'session', run_id, source FROM records ORDER BY 1").fetchall()
    finally:
        env.close()
    assert rows == [("0", "s1", "generate"), ("1", "s1", "generate")]


def test_a_step_that_only_repeats_its_calls_is_asked_for_the_answer():
    from toolforge.generate.session import ANSWER_SCHEMA

    t = FakeTeacher(name="fake:session")
    u, c, a = ROUNDS[0]
    t.enqueue(u, c, c, a)  # the second step repeats the call: the third may only answer
    for r in ROUNDS[1:3]:
        t.enqueue(*r)
    t.enqueue({"message": "", "goal_met": True, "abandon": False})
    out = _run(t, min_rounds=3, max_rounds=4)
    assert out.record is not None and out.rounds == 3
    first_round = out.record.to_dict()["messages"][:6]
    assert [m["role"] for m in first_round] == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert t.requests[3].response_schema == ANSWER_SCHEMA and "Answer the user's latest message now" in \
        t.requests[3].messages[-1]["content"]


def test_the_last_step_may_only_answer():
    from toolforge.generate.session import ANSWER_SCHEMA

    t = FakeTeacher(name="fake:session")
    a = ROUNDS[0][2]
    t.enqueue(*[calls(("get_weather", {"city": "Lisbon", "units": un})) for un in ("metric", "imperial")],
              calls(("get_weather", {"city": "Porto"})), a)
    env = Environment(TOOLS, mock=MOCK, run_safe=False)
    try:
        from toolforge.generate.session import Session

        s = Session(t, TOOLS, env, SessionSpec(persona="p", goal="g", min_rounds=3, max_rounds=3), max_steps=3)
        s.messages.append({"role": "user", "content": "What's the weather in Lisbon today?"})
        added = asyncio.run(s._assistant_turn(0, None))
    finally:
        env.close()
    assert [r.response_schema == ANSWER_SCHEMA for r in t.requests] == [False, False, False, True]
    assert added[-1] == {"role": "assistant", "content": "It is 21 °C in Lisbon."}


GRAMMAR = """
import json, sys
from llama_cpp import LlamaGrammar
from llama_cpp.llama_grammar import json_schema_to_gbnf
from toolforge.backends.llamacpp import exclude_control_chars, gbnf_safe_schema
from toolforge.generate.harden import harden_schema
for schema in json.loads(sys.stdin.read()):
    LlamaGrammar.from_string(exclude_control_chars(json_schema_to_gbnf(json.dumps(gbnf_safe_schema(harden_schema(schema))))),
                             verbose=False)
print("compiled")
"""


def test_every_session_schema_compiles_as_a_llama_cpp_grammar():
    """llama.cpp's grammar parser crashed the process (segfault) on the first session schema's raw bounds:
    the user, assistant and answer schemas over every packaged catalog tool compile (in a subprocess)."""
    import subprocess
    import sys

    from tests.conftest import ROOT
    from toolforge.catalog import load_catalogs
    from toolforge.generate.session import ANSWER_SCHEMA, USER_SCHEMA, assistant_schema

    tools = load_catalogs(["smol-tools"])
    schemas = [USER_SCHEMA, ANSWER_SCHEMA, assistant_schema(tools), *(assistant_schema([t]) for t in tools)]
    proc = subprocess.run([sys.executable, "-c", GRAMMAR], input=json.dumps(schemas), capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "compiled", proc.stderr[-2000:]
    assert "error parsing grammar" not in proc.stderr


def test_no_usable_tool_result_fails_the_try_never_a_made_up_result():
    t = FakeTeacher(name="fake:session")
    u, c, a = ROUNDS[0]
    t.enqueue(u, c, "no JSON here",                    # the simulator's reply for the call: unusable
              c, {"temp": 21, "unit": "C"}, a)          # the round asked again: a usable result, the answer
    for r in ROUNDS[1:3]:
        t.enqueue(r[0], r[1], {"temp": 17, "unit": "C"} if r[1]["calls"][0]["name"] == "get_weather"
                  else {"restaurants": [{"id": "r-88", "name": "Trattoria Bellavista", "price_eur": 30}]}, r[2])
    t.enqueue({"message": "", "goal_met": True, "abandon": False})
    env = Environment(TOOLS, simulator=t, run_safe=False)
    try:
        out = asyncio.run(run_session(t, TOOLS, env, SessionSpec(persona="p", goal="g", min_rounds=3, max_rounds=3)))
    finally:
        env.close()
    assert out.record is not None, out
    rejected = [x for x in out.attempts if x["outcome"] == "rejected"]
    assert [(x["round"], x["reason"]) for x in rejected] == [(0, "environment")]
    tools = [json.loads(m.content) for m in out.record.messages if m.role == "tool"]
    assert tools[0] == {"temp": 21, "unit": "C"} and all("no_result" not in json.dumps(x) for x in tools)
    assert out.record.meta["result_sources"] == ["simulated"] * 3


def _simulated(teacher, rounds):
    """Queue ``rounds`` for a teacher that is also the tool simulator: each call's result follows the call."""
    for u, c, a in rounds:
        teacher.enqueue(u, c, *[session_tools.get_weather(**x["arguments"]) if x["name"] == "get_weather"
                                else session_tools.search_restaurants(**x["arguments"]) for x in c["calls"]], a)


END = {"message": "", "goal_met": True, "abandon": False}
FAST = {"max_retries": 2, "backoff_base": 0.01, "backoff_max": 0.02}


def test_generate_sessions_retries_transient_teacher_and_simulator_errors(tmp_db, caplog):
    """The library path retries as the runner does: a 503 on the user's request, a timeout (with Retry-After)
    on the tool simulator's, and the session completes as if nothing happened."""
    from toolforge.backends.base import TransientError
    from toolforge.generate.retry import RetryPolicy
    from toolforge.generate.session import generate_sessions
    from toolforge.store import open_store

    t = FakeTeacher(name="fake:session")
    u, c, a = ROUNDS[0]
    t.enqueue(TransientError("http_503", "unavailable"), u, c,                       # the user simulator, retried
              TransientError("timeout", "read timed out", retry_after=0.01), {"temp": 21, "unit": "C"}, a)  # the tools'
    _simulated(t, ROUNDS[1:3])
    t.enqueue(END)
    env = Environment(TOOLS, simulator=t, run_safe=False)
    spec = SessionSpec(persona="p", goal="g", min_rounds=3, max_rounds=4)
    try:
        with open_store(tmp_db) as store:
            counts = generate_sessions(store, t, TOOLS, env, [spec], run_id="r1", retry=RetryPolicy(**FAST))
            (rec,) = list(store.iter_records())
    finally:
        env.close()
    assert counts == {"stored": 1, "skipped": 0, "goal_met": 1}
    assert [("round 1, user" in m, "round 1, result:get_weather" in m) for m in
            [r.getMessage() for r in caplog.records if r.name == "toolforge.generate.session"]] == \
        [(True, False), (False, True)]  # each failure logged
    assert not t.queue and len(t.requests) == 15  # 13 replies + the 2 failed requests, asked again
    assert [m.content for m in rec.messages if m.role == "user"] == [r[0]["message"] for r in ROUNDS[:3]]
    assert json.loads(next(m.content for m in rec.messages if m.role == "tool")) == {"temp": 21, "unit": "C"}
    assert rec.meta["result_sources"] == ["simulated"] * 3
    assert validate_record(rec) == []


def test_transient_errors_past_the_retries_and_permanent_errors_fail_cleanly(tmp_db):
    """A request still failing after its retries, or a failure no retry fixes (401), raises a ToolforgeError
    (the CLI's one-line error); sessions stored before stay, nothing of the failed one is stored, and a
    second call goes on from there."""
    from tests.helpers import store_digest
    from toolforge.backends.base import FatalBackendError, TransientError
    from toolforge.errors import BackendError
    from toolforge.generate.retry import RetryPolicy
    from toolforge.generate.session import generate_sessions
    from toolforge.store import open_store

    specs = [SessionSpec(persona="p", goal=f"g{i}", min_rounds=3, max_rounds=4, seed=i) for i in range(2)]
    env = Environment(TOOLS, mock=MOCK, run_safe=False)
    try:
        t = _teacher(ROUNDS[:3])
        t.enqueue(*[TransientError("http_429", "too many requests", retry_after=0.01)] * 3, "never asked")
        with open_store(tmp_db) as store, pytest.raises(BackendError, match="failed 3 times in a row") as spent:
            generate_sessions(store, t, TOOLS, env, specs, run_id="r2", retry=RetryPolicy(**FAST))
        assert "http_429" in str(spent.value) and spent.value.hint
        assert list(t.queue) == ["never asked"] and len(t.requests) == 10 + 3  # session 0, then 1 try + 2 retries
        before = store_digest(tmp_db)

        t = FakeTeacher(name="fake:session")
        t.enqueue(FatalBackendError("teacher server answered HTTP 401: invalid API key"), "never asked")
        with open_store(tmp_db) as store, pytest.raises(FatalBackendError, match="401"):
            generate_sessions(store, t, TOOLS, env, specs, run_id="r2", retry=RetryPolicy(**FAST))
        assert len(t.requests) == 1 and list(t.queue) == ["never asked"]  # not retried
        assert store_digest(tmp_db) == before

        with open_store(tmp_db) as store:
            again = generate_sessions(store, _teacher(ROUNDS[1:4]), TOOLS, env, specs, run_id="r2")
            goals = sorted(r.meta["goal"] for r in store.iter_records())
    finally:
        env.close()
    assert again == {"stored": 1, "skipped": 1, "goal_met": 1} and goals == ["g0", "g1"]
