"""The sharegpt export is read unchanged by LLaMA-Factory.

LLaMA-Factory's sharegpt loader (hiyouga/LLaMA-Factory src/llamafactory/data/converter.py,
``SharegptDatasetConverter.__call__``, at ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30) skips
("Skipping this abnormal example.") any row whose turn ``i`` is not human/observation for
even ``i`` and gpt/function_call for odd ``i``, or whose number of turns is odd. Its
``FunctionFormatter`` (formatter.py) reads a function_call value as an optional thought
block (``<think>\\n`` ... ``\\n</think>\\n\\n``) followed by JSON: one call object, or a list
of them for parallel calls. Both rules are re-implemented here from that source (not
imported from toolforge) and run over the export of every scenario.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.unit.chat_template.records import EXTRA
from toolforge.record import SCENARIOS, Record
from toolforge.store import open_store

pytestmark = pytest.mark.integration

ODD_TAGS = ("human", "observation")     # LLaMA-Factory: user_tag, observation_tag
EVEN_TAGS = ("gpt", "function_call")    # LLaMA-Factory: assistant_tag, function_tag
THOUGHT = re.compile(r"<think>\n(.*?)\n</think>\n\n", re.DOTALL)


def llamafactory_skips(example: dict) -> bool:
    """SharegptDatasetConverter: True when LLaMA-Factory would skip this row."""
    messages = example["conversations"]
    if messages and messages[0]["from"] == "system":
        messages = messages[1:]
    accept_tags = (ODD_TAGS, EVEN_TAGS)
    for turn_idx, message in enumerate(messages):
        if message["from"] not in accept_tags[turn_idx % 2]:
            return True
    return len(messages) % 2 != 0


def llamafactory_calls(value: str) -> list[dict]:
    """FunctionFormatter._parse_functions after removing the thought block (raises where LLaMA-Factory raises)."""
    m = THOUGHT.search(value)
    json_part = value.replace(m.group(0), "") if m else value
    calls = json.loads(json_part)
    if not isinstance(calls, list):
        calls = [calls]
    return [{"name": c["name"], "arguments": c["arguments"]} for c in calls]


def test_the_rule_rejects_what_llamafactory_rejects():
    ok = {"conversations": [{"from": "human", "value": "a"}, {"from": "function_call", "value": "{}"},
                            {"from": "observation", "value": "r"}, {"from": "gpt", "value": "b"}]}
    assert not llamafactory_skips(ok)
    two_gpt = {"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "t"},
                                 {"from": "function_call", "value": "{}"}, {"from": "observation", "value": "r"},
                                 {"from": "gpt", "value": "b"}]}
    two_obs = {"conversations": [{"from": "human", "value": "a"}, {"from": "function_call", "value": "[]"},
                                 {"from": "observation", "value": "r1"}, {"from": "observation", "value": "r2"},
                                 {"from": "gpt", "value": "b"}]}
    assert llamafactory_skips(two_gpt) and llamafactory_skips(two_obs)  # the two faults of the old export


@pytest.fixture
def store_all_scenarios(filled_db):
    with open_store(filled_db) as store:
        store.upsert_records([Record.model_validate(d) for d in EXTRA], source="test")
    return filled_db


def test_every_scenario_exports_rows_llamafactory_keeps(run_cli, store_all_scenarios, tmp_path, sample_records):
    records = sample_records + [Record.model_validate(d) for d in EXTRA]
    by_id = {r.id: r for r in records}
    for think in ("tags", "drop"):
        out = tmp_path / f"sg-{think}"
        proc = run_cli("export", "--db", store_all_scenarios, "--format", "sharegpt", "--out", out, "--status", "any",
                       "--think", think, "--json", check=True)
        assert json.loads(proc.stdout)["skipped"] == {}
        rows = [json.loads(x) for x in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
        assert {r["scenario"] for r in rows} == set(SCENARIOS) and len(rows) == len(records)
        for row in rows:
            assert not llamafactory_skips(row), row["conversations"]
            rec = by_id[row["id"]]
            turns = row["conversations"]
            call_turns = [t for t in turns if t["from"] == "function_call"]
            call_msgs = [m for m in rec.messages if m.tool_calls]
            assert len(call_turns) == len(call_msgs)  # one function_call turn per assistant call turn
            for turn, msg in zip(call_turns, call_msgs):
                assert llamafactory_calls(turn["value"]) == [{"name": c.name, "arguments": c.arguments}
                                                             for c in msg.tool_calls]
                thought = THOUGHT.search(turn["value"])
                if think == "tags" and (msg.reasoning or msg.content):
                    assert thought and all(p in thought.group(1) for p in (msg.reasoning, msg.content) if p)
            # parallel results are one observation turn holding every result
            groups = sum(1 for i, m in enumerate(rec.messages)
                         if m.role == "tool" and rec.messages[i - 1].role != "tool")
            observations = [t["value"] for t in turns if t["from"] == "observation"]
            assert len(observations) == groups
            for m in rec.messages:
                if m.role == "tool":
                    assert any(m.content in v for v in observations)
            reasoning = [m.reasoning for m in rec.messages if m.reasoning]
            text = json.dumps(turns, ensure_ascii=False)
            for r in reasoning:
                assert (json.dumps(r, ensure_ascii=False)[1:-1] in text) == (think == "tags")


def test_a_record_that_cannot_alternate_is_left_out_and_counted(run_cli, filled_db, tmp_path):
    odd = Record.model_validate({"scenario": "no_tool_needed", "tools": [], "messages": [
        {"role": "user", "content": "one"}, {"role": "user", "content": "two"},
        {"role": "assistant", "content": "answer"}]})
    with open_store(filled_db) as store:
        store.upsert_records([odd], source="test")
    out = tmp_path / "sg"
    proc = run_cli("export", "--db", filled_db, "--format", "sharegpt", "--out", out, "--status", "any", check=True)
    assert "1 record(s) left out by sharegpt: sharegpt_roles: 1" in proc.stderr
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["skipped"] == {"sharegpt_roles": 1}
    rows = [json.loads(x) for x in (out / "train.jsonl").read_text().splitlines()]
    assert odd.id not in {r["id"] for r in rows} and len(rows) == 8
