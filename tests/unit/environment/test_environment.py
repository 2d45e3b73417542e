"""The tool environment of stepwise generation: safe tools run for real, a world state, a user's mock, a simulator."""

from __future__ import annotations

import asyncio
import json

import pytest

from toolforge.backends.fake import FakeTeacher
from toolforge.catalog import load_catalog, load_returns
from toolforge.environment import Environment, WorldState, load_mock
from toolforge.errors import InputError


@pytest.fixture(scope="module")
def tools():
    return load_catalog("smol-tools").tools


def run(coro):
    return asyncio.run(coro)


def test_safe_tool_runs_for_real_and_a_failure_is_an_error(tools):
    env = Environment(tools)
    try:
        w = WorldState()
        res = run(env.call("calculate", {"expression": "(3.5 + 2) * sqrt(16)"}, w))
        assert res.source == "safe" and res.result == {"result": 22} and not res.error
        bad = run(env.call("calculate", {"expression": "1/0"}, w))
        assert bad.source == "safe" and bad.error and "division by zero" in bad.result["message"]
        assert [h[3] for h in w.history] == [False, True]
    finally:
        env.close()


def test_world_state_reads_back_a_written_file_and_lists_it(tools):
    sim = FakeTeacher()
    sim.enqueue({"path": "notes/todo.txt", "bytes_written": 11})
    env = Environment(tools, returns=load_returns(["smol-tools"]), simulator=sim)
    w = WorldState()
    wrote = run(env.call("write_file", {"path": "notes/todo.txt", "content": "buy stamps!"}, w))
    assert wrote.source == "simulated"
    back = run(env.call("read_file", {"path": "./notes/todo.txt"}, w))
    assert back.source == "world" and back.result["content"] == "buy stamps!"
    listing = run(env.call("list_directory", {"path": "notes"}, w))
    assert listing.source == "world" and listing.result["entries"] == ["todo.txt"]
    assert len(sim.requests) == 1  # only the write went to the simulator


def test_simulator_sees_schema_call_and_world_and_keeps_ids(tools):
    sim = FakeTeacher()
    sim.enqueue({"event_id": "evt_42", "title": "Dentist", "start": "2026-12-01T09:00:00+00:00"},
                {"city": "Oslo", "temperature": 3, "units": "metric", "condition": "snow"})
    env = Environment(tools, returns=load_returns(["smol-tools"]), simulator=sim)
    w = WorldState()
    run(env.call("create_calendar_event", {"title": "Dentist", "start": "2026-12-01T09:00:00+00:00"}, w))
    run(env.call("get_weather", {"city": "Oslo"}, w))
    req = sim.requests[-1]
    prompt = req.messages[-1]["content"]
    assert 'get_weather({"city": "Oslo"})' in prompt and "evt_42" in prompt  # the call and the world so far
    assert set(req.response_schema["properties"]) >= {"city", "temperature", "condition"}  # the catalog's returns
    assert req.response_schema["additionalProperties"] is False  # named keys only
    # the same call again answers the same, without the simulator
    again = run(env.call("get_weather", {"city": "Oslo"}, w))
    assert again.source == "world" and again.result["temperature"] == 3 and len(sim.requests) == 2


def test_forced_error_is_an_error_and_a_non_error_reply_is_refused(tools):
    sim = FakeTeacher()
    sim.enqueue({"city": "x", "temperature": 1, "units": "metric", "condition": "ok"},  # not an error: unusable
                {"error": "city_not_found", "message": "No city named Sprngfeld"})
    env = Environment(tools, simulator=sim)
    w = WorldState()
    first = run(env.call("get_weather", {"city": "Sprngfeld"}, w, force_error=True))
    assert first.result is None and first.detail
    second = run(env.call("get_weather", {"city": "Sprngfeld"}, w, force_error=True))
    assert second.error and second.source == "forced_error" and second.result["error"] == "city_not_found"
    assert sim.requests[-1].response_schema["required"] == ["error", "message"]


def test_dangerous_tools_are_never_run(tools, tmp_path):
    target = tmp_path / "PWNED"
    env = Environment(tools)  # no simulator: nothing can answer a shell call
    res = run(env.call("shell_command", {"command": f"touch {target}"}, WorldState()))
    assert res.error and res.source == "simulated" and not target.exists()
    res = run(env.call("execute_python", {"code": f"open({str(target)!r}, 'w')"}, WorldState()))
    assert res.error and not target.exists()


def test_user_mock_module_answers_binds_by_name_and_validates(tools, tmp_path):
    mod = tmp_path / "mocks.py"
    mod.write_text(
        "def get_weather(city, units='metric', days=0):\n"
        "    if city == 'Atlantis':\n"
        "        raise LookupError('no such city')\n"
        "    return {'city': city, 'temperature': 21, 'units': units, 'condition': 'clear'}\n")
    env = Environment(tools, mock=load_mock(mod))
    w = WorldState()
    ok = run(env.call("get_weather", {"units": "imperial", "city": "Lima"}, w))
    assert ok.source == "mock" and ok.result == {"city": "Lima", "temperature": 21, "units": "imperial", "condition": "clear"}
    err = run(env.call("get_weather", {"city": "Atlantis"}, w))
    assert err.error and err.result == {"error": "lookuperror", "message": "no such city"}
    invalid = run(env.call("get_weather", {"units": "kelvin"}, w))
    assert invalid.error and invalid.result["error"] == "invalid_arguments"
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    with pytest.raises(InputError):
        load_mock(empty)


def test_results_are_json_objects_from_the_simulator_only(tools):
    sim = FakeTeacher()
    sim.enqueue("not json at all")
    env = Environment(tools, simulator=sim)
    res = run(env.call("web_search", {"query": "x"}, WorldState()))
    assert res.result is None and res.detail == "not json at all"
    assert json.dumps(res.to_dict())
