"""Annotator fixes (tool name, remove/add a call, tool result), staleness flags, resolution rules,
the typed tools panel and feedback sentences, without a server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from toolforge.review.edits import EditError, RecordView, apply_edit, find_edit, read_annotation
from toolforge.review.feedback import check_annotation
from toolforge.review.guidance import tools_html
from toolforge.review.resolution import decide


@pytest.fixture
def by_scenario(sample_records):
    out = {}
    for r in sample_records:
        out.setdefault(r.scenario, r)
    return out


def reading(choice="needs_fix", **boxes):
    result = [{"from_name": "verdict", "value": {"choices": [choice]}}]
    result += [{"from_name": k, "value": {"text": [v]}} for k, v in boxes.items()]
    return read_annotation(result)


def test_change_tool_name_validates_against_the_new_tool(by_scenario):
    rec = by_scenario["single_tool"]
    other = next(t for t in rec.tool_names if t != rec.calls[0].name)
    with pytest.raises(EditError, match="does not match the tool's schema"):
        find_edit(rec, reading(tool_1=other))          # the old arguments do not fit the other tool
    with pytest.raises(EditError, match="not offered"):
        find_edit(rec, reading(tool_1="launch_rockets"))
    params = rec.tool(other).function.parameters
    args = {k: ("fr" if "language" in k else "hello") for k in params.get("required", [])}
    edit = find_edit(rec, reading(tool_1=other, args_1=json.dumps(args)))
    assert edit.names == {1: other}
    assert any("tool result" in f for f in edit.possibly_stale)   # result not edited after the change
    assert any("final answer" in f for f in edit.possibly_stale)
    revised = apply_edit(rec, edit, meta={})
    assert revised.calls[0].name == other and revised.calls[0].arguments == args
    tool_msg = next(m for m in revised.messages if m.role == "tool")
    assert tool_msg.name == other


def test_remove_and_add_calls(by_scenario):
    rec = by_scenario["multi_tool_parallel"]
    n = len(rec.calls)
    edit = find_edit(rec, reading(tool_2="remove"))
    revised = apply_edit(rec, edit, meta={})
    assert len(revised.calls) == n - 1
    removed_id = rec.calls[1].id
    assert all(m.tool_call_id != removed_id for m in revised.messages)   # its result went with it
    name = rec.calls[0].name
    add = {f"tool_{n + 1}": name, f"args_{n + 1}": json.dumps(rec.calls[0].arguments),
           f"result_{n + 1}": '{"ok": true}'}
    added = apply_edit(rec, find_edit(rec, reading(**add)), meta={})
    assert len(added.calls) == n + 1 and added.final_answer == rec.final_answer
    assert added.messages[-2].role == "tool" and added.messages[-2].content == '{"ok": true}'
    with pytest.raises(EditError, match="needs its tool result"):
        find_edit(rec, reading(**{k: v for k, v in add.items() if not k.startswith("result")}))
    with pytest.raises(EditError, match="write the tool's name"):
        find_edit(rec, reading(**{f"args_{n + 1}": "{}"}))


def test_fix_tool_result_and_unchanged_boxes(by_scenario):
    rec = by_scenario["single_tool"]
    result = next(m.content for m in rec.messages if m.role == "tool")
    same = reading(tool_1=rec.calls[0].name + " ", args_1=json.dumps(rec.calls[0].arguments), result_1=result + "\n")
    assert not find_edit(rec, same)
    edit = find_edit(rec, reading(result_1='{"temp_c": -3}'))
    assert edit.results == {1: '{"temp_c": -3}'} and "final answer" in " ".join(edit.possibly_stale)
    assert apply_edit(rec, edit, meta={}).messages[3].content == '{"temp_c": -3}'
    if json.loads(result) is not None:
        with pytest.raises(EditError, match="was JSON"):
            find_edit(rec, reading(result_1="{not json"))


@dataclass
class V:
    annotation_id: int
    annotator: str
    choice: str | None
    ground_truth: bool = False
    edit_obj: object = None
    edit_status: str = "none"
    edit_reason: str | None = None
    annotated_at: datetime | None = None
    edit: dict = field(default_factory=dict)


def test_needs_fix_with_a_valid_fix_is_accepted_unless_someone_rejects():
    fix = V(1, "ana", "needs_fix", edit_obj=object(), edit_status="none")
    out = decide([fix])
    assert out.verdict == "needs_fix" and out.winner is fix and out.revision_verdict == "accept"
    out = decide([fix, V(2, "ben", "needs_fix"), V(3, "cleo", "reject")])
    assert out.verdict == "needs_fix" and out.revision_verdict == "needs_fix"
    assert decide([V(1, "ana", "needs_fix")]).winner is None


def test_invalid_edit_holds_an_accept_back():
    out = decide([V(1, "ana", "accept", edit_status="invalid", edit_reason="call 1: not valid JSON"),
                  V(2, "ben", "accept")])
    assert out.verdict == "needs_fix" and out.pending and out.basis == "invalid_edit"
    assert "not valid JSON" in out.detail and out.winner is None
    # a rejected record is not held back by someone's invalid edit
    out = decide([V(1, "ana", "reject", edit_status="invalid", edit_reason="x"), V(2, "ben", "reject")])
    assert out.verdict == "reject" and not out.pending


def test_ground_truth_settles_a_tie():
    tie = [V(1, "ana", "accept"), V(2, "ben", "reject")]
    assert decide(tie).verdict == "reject" and decide(tie).basis == "tie"
    out = decide([*tie, V(3, "lead", "accept", ground_truth=True)])
    assert out.verdict == "accept" and out.basis == "ground_truth" and "lead" in out.detail


def test_tools_panel_is_typed_and_escaped():
    tools = [{"type": "function", "function": {"name": "<b>x</b>", "description": "<script>alert(1)</script>",
              "parameters": {"type": "object", "required": ["units"], "properties": {
                  "units": {"type": "string", "enum": ["metric", "imperial"], "description": "Units."},
                  "days": {"type": "integer", "minimum": 0, "maximum": 7}}}}}]
    html = tools_html(tools)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "one of: &quot;metric&quot;, &quot;imperial&quot;" in html
    assert "<td>required</td>" in html and "<td>optional</td>" in html and "min 0; max 7" in html
    assert html.index("<code>units</code>") < html.index("<code>days</code>")   # the schema's order


def test_task_panel_keeps_the_schema_order(sample_records):
    from toolforge.review.tasks import build_task

    html = build_task(sample_records[0])["data"]["tools_html"]
    assert html.index("<code>city</code>") < html.index("<code>units</code>") < html.index("<code>days</code>")


def test_feedback_sentence(by_scenario):
    rec = by_scenario["single_tool"]
    view = RecordView.of(rec)
    bad = [{"from_name": "verdict", "value": {"choices": ["accept"]}},
           {"from_name": "args_1", "value": {"text": ['{"city": 5}']}}]
    state, text = check_annotation(view, bad)
    assert state == "edit_refused" and "schema" in text and "not accepted until" in text
    ok = [{"from_name": "verdict", "value": {"choices": ["accept"]}}]
    assert check_annotation(view, ok) == ("ok", "accept: valid, no edit")
