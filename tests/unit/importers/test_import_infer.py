"""Scenario inference from a conversation's shape."""

from __future__ import annotations

import pytest

from toolforge.importers.infer import REASONING_CHARS, infer_scenario, json_values, loads_lenient
from toolforge.record import Record

T = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]


def call(i):
    return {"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": {}}}


def res(i, content='{"ok": 1}'):
    return {"role": "tool", "tool_call_id": f"c{i}", "name": "f", "content": content}


U = {"role": "user", "content": "q"}
A = {"role": "assistant", "content": "done"}


@pytest.mark.parametrize("messages,scenario", [
    ([U, A], "no_tool_needed"),
    ([U, {"role": "assistant", "tool_calls": [call(1)]}, res(1), A], "single_tool"),
    ([U, {"role": "assistant", "tool_calls": [call(1), call(2)]}, res(1), res(2), A], "multi_tool_parallel"),
    ([U, {"role": "assistant", "tool_calls": [call(1)]}, res(1), {"role": "assistant", "tool_calls": [call(2)]}, res(2), A],
     "multi_tool_sequential"),
    ([U, {"role": "assistant", "tool_calls": [call(1)]}, res(1), {"role": "assistant", "tool_calls": [call(2)]}, res(2),
      {"role": "assistant", "tool_calls": [call(3)]}, res(3), A], "complex_multi_step"),
    ([U, {"role": "assistant", "tool_calls": [call(1)]}, res(1, '{"error": "city not found"}'), A], "error_recovery"),
    ([U, {"role": "assistant", "tool_calls": [call(1)]}, res(1, "Error: timeout"), A], "error_recovery"),
    ([U, {"role": "assistant", "reasoning": "x" * REASONING_CHARS, "tool_calls": [call(1)]}, res(1), A], "reasoning_heavy"),
    ([U, {"role": "assistant", "reasoning": "short", "tool_calls": [call(1)]}, res(1), A], "single_tool"),
])
def test_infer_scenario(messages, scenario):
    assert infer_scenario(Record.model_validate({"tools": T, "messages": messages})) == scenario


def test_lenient_parsing_never_evaluates():
    assert loads_lenient("{'a': True, 'b': None}") == {"a": True, "b": None}
    with pytest.raises(ValueError):
        loads_lenient("__import__('os').system('true')")
    assert json_values('{"a": 1}\n{"b": 2}, [3]') == [{"a": 1}, {"b": 2}, [3]]
