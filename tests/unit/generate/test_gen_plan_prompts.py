"""Planning (variety, reproducibility) and prompt rendering (sandboxed, StrictUndefined)."""

from __future__ import annotations

import pytest

from toolforge.catalog import load_catalog
from toolforge.generate.parse import build_record, load_json
from toolforge.generate.plan import make_job
from toolforge.generate.prompts import environment, examples, render_messages, render_reask
from toolforge.record import SCENARIOS


@pytest.fixture(scope="module")
def tools():
    return load_catalog("smol-tools").tools


def test_jobs_are_reproducible_and_varied(tools):
    a = [make_job("single_tool", i, 7, tools) for i in range(30)]
    b = [make_job("single_tool", i, 7, tools) for i in range(30)]
    assert [(j.seed, [t.name for t in j.tools], j.persona) for j in a] == \
           [(j.seed, [t.name for t in j.tools], j.persona) for j in b]
    assert len({tuple(t.name for t in j.tools) for j in a}) > 15
    assert len({j.persona for j in a}) > 8 and len({j.topic for j in a}) > 5
    c = make_job("single_tool", 0, 8, tools)
    assert c.seed != a[0].seed


def test_distractors_are_offered_but_not_callable(tools):
    for scenario in SCENARIOS:
        for i in range(20):
            j = make_job(scenario, i, 3, tools)
            names = {t.name for t in j.tools}
            assert {t.name for t in j.callable} | {t.name for t in j.distractors} == names
            assert not {t.name for t in j.callable} & {t.name for t in j.distractors}
            if scenario == "no_tool_needed":
                assert not j.callable and j.distractors
            else:
                assert j.callable


def test_prompt_names_scenario_tools_distractors_and_seeds(tools):
    j = make_job("multi_tool_sequential", 2, 5, tools, n_examples=len(examples("multi_tool_sequential")))
    from toolforge.catalog import load_returns

    system, user = render_messages(j, returns=load_returns(["smol-tools"]))
    assert system["role"] == "system" and user["role"] == "user"
    # the scenario's name stays out of the prompt (a teacher copies it into the request: prompt_leak)
    assert "multi_tool_sequential" not in user["content"] and j.persona in user["content"]
    assert j.topic in user["content"]
    for t in j.tools:
        assert t.name in user["content"]
        for p in (t.function.parameters.get("properties") or {}).values():  # descriptions, not only names/types
            if p.get("description"):
                assert p["description"] in user["content"]
    if j.distractors:
        assert "must not be needed by the request" in user["content"]
    assert "returns: {" in user["content"]  # the catalog's result shapes are shown when given
    assert "{{" not in user["content"]


def test_templates_are_sandboxed_and_strict(tmp_path):
    from jinja2.exceptions import SecurityError, UndefinedError

    env = environment(str(tmp_path))
    with pytest.raises(UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()


def test_reask_lists_issues():
    from toolforge.validate import Issue

    text = render_reask([Issue("unknown_tool", "messages[2].tool_calls[0]", "'x' is not offered")])
    assert "messages[2].tool_calls[0]" in text and "not offered" in text


def test_parse_errors_become_issues(tools):
    j = make_job("single_tool", 0, 1, tools)
    _, issues = load_json('{"user": "hi there friend", "turns": [[{"name": ')
    assert issues[0].code == "json_invalid"
    rec, issues = build_record({"user": "x" * 12, "answer": "ok"}, j, {})
    assert rec is None and issues[0].code == "plan_shape"
    name = j.callable[0].name
    rec, issues = build_record({"user": "what is up today", "turns": [[{"name": name, "arguments": {}, "result": {"a": 1}}]],
                                "answer": "done"}, j, {"k": 1})
    assert rec is not None and not issues
    assert [m.role for m in rec.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert rec.messages[3].tool_call_id == rec.messages[2].tool_calls[0].id and rec.meta == {"k": 1}
    if j.distractors:
        bad = j.distractors[0].name
        _, issues = build_record({"user": "what is up today", "turns": [[{"name": bad, "arguments": {}, "result": {}}]],
                                  "answer": "done"}, j, {})
        assert issues and issues[0].code == "distractor_called"
