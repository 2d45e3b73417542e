from __future__ import annotations

import json

from toolforge.export import openai as openai_fmt
from toolforge.export.convert import chat_messages, openai_messages, sharegpt_conversation
from toolforge.record import Record


def _by_scenario(records, scenario):
    return next(r for r in records if r.scenario == scenario)


def test_openai_arguments_are_json_strings_and_call_turns_have_null_content(sample_records):
    rec = _by_scenario(sample_records, "multi_tool_parallel")
    msgs = openai_messages(rec)
    calls = [m for m in msgs if m.get("tool_calls")]
    assert calls and calls[0]["content"] is None
    for c in calls[0]["tool_calls"]:
        assert isinstance(c["function"]["arguments"], str)
        assert json.loads(c["function"]["arguments"])["city"] in {"Lisbon", "Reykjavik"}
    assert all("name" not in m for m in msgs if m["role"] == "tool")
    assert openai_fmt.row(rec)["parallel_tool_calls"] is True
    # The wire form converts back to the same record (arguments parsed again).
    back = Record.model_validate({"scenario": rec.scenario, "tools": rec.tools_dump(),
                                  "messages": [{k: v for k, v in m.items()} for m in openai_messages(rec, think="drop")]})
    assert [c.arguments for c in back.calls] == [c.arguments for c in rec.calls]


def test_think_modes(sample_records):
    rec = _by_scenario(sample_records, "reasoning_heavy")
    reasoning = next(m.reasoning for m in rec.messages if m.reasoning)
    tags = chat_messages(rec, think="tags")
    assert any(m["role"] == "assistant" and m["content"].startswith("<think>\n" + reasoning) for m in tags)
    field = chat_messages(rec, think="field")
    assert any(m.get("reasoning_content") == reasoning for m in field)
    assert all("<think>" not in (m.get("content") or "") for m in field)
    drop = chat_messages(rec, think="drop")
    assert all("reasoning" not in m and "reasoning_content" not in m for m in drop)
    assert all(reasoning not in (m.get("content") or "") for m in drop)


def test_sharegpt_roles_and_calls(sample_records):
    rec = _by_scenario(sample_records, "multi_tool_parallel")
    conv = sharegpt_conversation(rec)
    froms = [t["from"] for t in conv["conversations"]]
    assert froms[0] == "human" and "function_call" in froms and "observation" in froms and froms[-1] == "gpt"
    call = json.loads(next(t["value"] for t in conv["conversations"] if t["from"] == "function_call"))
    assert isinstance(call, list) and len(call) == 2  # parallel calls stay one turn
    assert conv["system"].startswith("You are")
    assert [t["name"] for t in json.loads(conv["tools"])] == rec.tool_names
