"""Prediction generation logic with a scripted teacher (the live path is tests/integration/test_eval_live.py)."""

from __future__ import annotations

import asyncio

from toolforge.backends import ChatResponse, TransientError
from toolforge.evaluate.predict import PredictTask, _run, wire_messages, wire_tools


class Scripted:
    name = "scripted"
    supports_schema = False
    supports_tools = True

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests = []
        self.closed = False

    async def chat(self, req):
        self.requests.append(req)
        r = self.replies.pop(0)
        if isinstance(r, Exception):
            raise r
        return r

    async def aclose(self):
        self.closed = True


TOOLS = [{"type": "function", "function": {"name": "math.factorial", "description": "n!", "parameters": {
    "type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}}}]


def test_wire_format_and_names_mapped_back():
    tools, back = wire_tools(TOOLS)
    assert tools[0]["function"]["name"] == "math_factorial" and back == {"math_factorial": "math.factorial"}
    msgs = wire_messages([{"role": "user", "content": "5!"},
                          {"role": "assistant", "reasoning": "think", "tool_calls": [
                              {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"n": 5}}}]},
                          {"role": "tool", "tool_call_id": "c1", "name": "f", "content": "120"}])
    assert msgs[1] == {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"n": 5}'}}]}
    assert msgs[2]["tool_call_id"] == "c1" and "reasoning" not in msgs[1]

    teacher = Scripted([ChatResponse(text="", tool_calls=[{"name": "math_factorial", "arguments": {"n": 5}}]),
                        ChatResponse(text="<tool_call>{}</tool_call>")])
    tasks = [PredictTask("a", 1, [{"role": "user", "content": "5!"}], TOOLS),
             PredictTask("b", None, [{"role": "user", "content": "hi"}], TOOLS)]
    lines = asyncio.run(_run(teacher, tasks, concurrency=1, temperature=0.0, max_tokens=16, seed=0, attempts=2))
    assert lines == [{"id": "a", "turn": 1, "tool_calls": [{"name": "math.factorial", "arguments": {"n": 5}}]},
                     {"id": "b", "output": "<tool_call>{}</tool_call>"}]
    req = teacher.requests[0]
    assert req.tools[0]["function"]["name"] == "math_factorial" and req.temperature == 0.0 and req.tool_choice is None
    assert teacher.closed


def test_transient_errors_are_retried_then_recorded():
    teacher = Scripted([TransientError("http_503", "busy", retry_after=0), ChatResponse(text="ok"),
                        TransientError("http_503", "busy", retry_after=0), TransientError("http_503", "busy", retry_after=0)])
    tasks = [PredictTask("a", 1, [{"role": "user", "content": "x"}], []),
             PredictTask("b", 1, [{"role": "user", "content": "y"}], [])]
    lines = asyncio.run(_run(teacher, tasks, concurrency=1, temperature=0.0, max_tokens=16, seed=0, attempts=2))
    assert lines[0] == {"id": "a", "turn": 1, "output": "ok"}
    assert lines[1] == {"id": "b", "turn": 1, "output": "", "error": "http_503"}
    assert teacher.requests[0].tools is None


def test_wire_safe_names_in_outputs_are_read_as_the_offered_tool():
    from toolforge.evaluate.predict import unwire_names

    calls = [{"name": "math_factorial", "arguments": {}}, {"name": "other", "arguments": {}},
             {"name": "a_b", "arguments": {}}]
    assert [c["name"] for c in unwire_names(calls, ["math.factorial", "a.b", "a/b", "other"])] == [
        "math.factorial", "other", "a_b"]          # a_b could be a.b or a/b: left as it is
