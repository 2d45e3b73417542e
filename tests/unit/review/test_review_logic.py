"""Review logic without a server: configs, task building, reading annotations, edits, resolution, status."""

from __future__ import annotations

import json

import pytest

from toolforge.errors import InputError
from toolforge.record import Record
from toolforge.review.agreement import agreement_report, krippendorff_alpha
from toolforge.review.config import (
    CONFIG_KINDS,
    MAX_CALL_SLOTS,
    call_slots,
    check_config,
    load_config,
)
from toolforge.review.edits import (
    Edit,
    EditError,
    Reading,
    apply_edit,
    find_edit,
    read_annotation,
    resolve,
)
from toolforge.review.status import review_status
from toolforge.review.tasks import build_task, format_call, task_record_id
from toolforge.store import open_store


@pytest.fixture
def by_scenario(sample_records):
    out = {}
    for r in sample_records:
        out.setdefault(r.scenario, r)
    return out


@pytest.mark.parametrize("kind", CONFIG_KINDS)
def test_shipped_configs_pass_the_sdk_label_interface(kind):
    li = check_config(load_config(kind))
    assert call_slots(li) == MAX_CALL_SLOTS
    names = {c.name for c in li.controls}
    assert {"verdict", "rating", "answer", "notes"} <= names
    assert li.get_control("verdict").labels == ["accept", "reject", "needs_fix"]
    objects = {o.tag for o in li.objects}
    assert "Paragraphs" in objects and ("Audio" in objects) == (kind == "audio")
    assert "<Chat" not in load_config(kind)  # the free edition has no Chat tag
    # an annotation a reviewer would make passes the SDK's check against the config
    ok = {"result": [{"from_name": "verdict", "to_name": "dialogue", "type": "choices", "value": {"choices": ["accept"]}},
                     {"from_name": "args_1", "to_name": "dialogue", "type": "textarea", "value": {"text": ["{}"]}}]}
    assert li.validate_prediction(ok, return_errors=True) == []
    bad = {"result": [{"from_name": "verdict", "to_name": "dialogue", "type": "choices", "value": {"choices": ["maybe"]}}]}
    assert li.validate_prediction(bad, return_errors=True)


def test_bad_configs_are_refused(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<View><Choices name='verdict' toName='nowhere'><Choice value='accept'/></Choices></View>")
    with pytest.raises(InputError, match="not a valid Label Studio labeling config"):
        load_config("text", broken)
    odd = tmp_path / "odd.xml"
    odd.write_text('<View><Text name="t" value="$x"/><Choices name="verdict" toName="t"><Choice value="good"/>'
                   "</Choices></View>")
    with pytest.raises(InputError, match="not toolforge verdicts"):
        load_config("text", odd)
    with pytest.raises(InputError, match="cannot read"):
        load_config("text", tmp_path / "missing.xml")


def test_task_shows_who_said_what_and_prefills(by_scenario):
    rec = by_scenario["complex_multi_step"]
    task = build_task(rec)
    assert task["data"]["record_id"] == task["meta"]["record_id"] == rec.id
    authors = [line["author"] for line in task["data"]["dialogue"]]
    assert authors[0] == "system" and "user" in authors and "assistant: tool call 3" in authors
    assert any(a.startswith("tool result (") for a in authors)
    texts = [line["text"] for line in task["data"]["dialogue"]]
    assert format_call("calculate", {"expression": "48210.5 * 1.08", "precision": 2}) in texts
    assert task["data"]["call_3"].startswith("Call 3: send_email") and task["data"]["call_4"].startswith("Add a call")
    assert task["data"]["call_5"] == ""  # empty slots have no header (the config hides them)
    assert task["data"]["scenario"] == "complex_multi_step" and "Checklist (complex_multi_step)" in task["data"]["checklist"]
    assert "<th>required</th>" in task["data"]["tools_html"]
    prefill = {r["from_name"]: r["value"]["text"][0] for r in task["predictions"][0]["result"]}
    assert prefill["answer"] == rec.final_answer
    assert json.loads(prefill["args_3"]) == rec.calls[2].arguments
    assert "audio" not in task["data"]
    again = build_task(rec)
    assert again["meta"]["data_sha"] == task["meta"]["data_sha"]
    spoken = build_task(rec, kind="audio", audio={"url": "/data/local-files/?d=a.wav", "turn": 1, "duration_s": 2.5})
    assert spoken["meta"]["data_sha"] != task["meta"]["data_sha"]
    user = next(line for line in spoken["data"]["dialogue"] if line["author"] == "user")
    assert (user["start"], user["end"]) == (0.0, 2.5)


def test_reasoning_is_a_line(by_scenario):
    rec = by_scenario["reasoning_heavy"]
    lines = build_task(rec)["data"]["dialogue"]
    assert any(line["author"] == "assistant (thinking)" for line in lines)


def test_task_record_id_must_agree():
    assert task_record_id({"id": 1, "data": {"record_id": "a"}, "meta": {"record_id": "a"}}) == ("a", None)
    rid, problem = task_record_id({"id": 2, "data": {"record_id": "a"}, "meta": {"record_id": "b"}})
    assert rid is None and "differ" in problem
    rid, problem = task_record_id({"id": 3, "data": {"text": "x"}, "meta": {}})
    assert rid is None and "not pushed by toolforge" in problem


def _reading(rec: Record, **boxes) -> Reading:
    result = [{"from_name": "verdict", "value": {"choices": ["accept"]}}]
    result += [{"from_name": k, "value": {"text": [v]}} for k, v in boxes.items()]
    return read_annotation(result)


def test_unchanged_prefill_is_not_an_edit(by_scenario):
    rec = by_scenario["multi_tool_parallel"]
    reading = _reading(rec, answer=f"  {rec.final_answer}\n", args_1='{ "city":"Lisbon" }',
                       args_2=json.dumps(rec.calls[1].arguments))
    assert not find_edit(rec, reading)


def test_edits_are_parsed_checked_and_applied(by_scenario):
    rec = by_scenario["multi_tool_sequential"]
    edit = find_edit(rec, _reading(rec, answer="New answer.", args_1='{"query": "duckdb news", "num_results": 3}'))
    assert edit.answer == "New answer." and edit.arguments == {1: {"query": "duckdb news", "num_results": 3}}
    revised = apply_edit(rec, edit, meta={"parent_id": rec.id})
    assert revised.id != rec.id and revised.final_answer == "New answer."
    assert revised.calls[0].arguments == {"query": "duckdb news", "num_results": 3}
    assert revised.calls[1].arguments == rec.calls[1].arguments
    assert rec.final_answer != "New answer."  # the original object is untouched
    assert revised.meta["review"]["parent_id"] == rec.id


@pytest.mark.parametrize(("box", "reason"), [
    ('{"query": "x"', "not valid JSON"),
    ('["x"]', "expected a JSON object"),
    ('{"query": 7}', "does not match the tool's schema"),
    ('{"query": "x", "bogus": 1}', "does not match the tool's schema"),
    ("", "the box is empty"),
])
def test_invalid_argument_edits_give_a_reason(by_scenario, box, reason):
    rec = by_scenario["multi_tool_sequential"]
    with pytest.raises(EditError, match=reason):
        find_edit(rec, _reading(rec, args_1=box))


def test_answer_edit_on_a_record_without_final_answer_is_refused(sample_records):
    d = sample_records[0].to_dict()
    d.pop("id")
    d["messages"] = d["messages"][:-2]  # ends with the assistant's tool call
    rec = Record.model_validate(d)
    with pytest.raises(EditError, match="without a final answer"):
        find_edit(rec, _reading(rec, answer="Something"))


def test_read_annotation_fields():
    r = read_annotation([
        {"from_name": "verdict", "value": {"choices": ["needs_fix"]}},
        {"from_name": "rating", "value": {"rating": 3}},
        {"from_name": "notes", "value": {"text": ["  too long "]}},
        {"from_name": "args_2", "value": {"text": ["{}"]}},
    ])
    assert (r.choice, r.rating, r.notes, r.args, r.answer) == ("needs_fix", 3, "too long", {2: "{}"}, None)
    assert not Edit()


@pytest.mark.parametrize(("choices", "verdict"), [
    (["accept"], "accept"),
    (["accept", "accept", "reject"], "accept"),
    (["accept", "reject"], "reject"),
    (["accept", "needs_fix"], "needs_fix"),
    (["needs_fix", "reject", "accept"], "reject"),
    (["needs_fix", "needs_fix", "reject", "reject", "accept"], "reject"),
    ([], None),
])
def test_resolution_rule(choices, verdict):
    assert resolve(choices) == verdict


def test_krippendorff_alpha_on_krippendorffs_own_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers, 12 units, missing
    # values; nominal alpha = 0.743 (unit 12 has one value and is not pairable).
    units = [[1, 1, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4], [4, 4, 4, 4],
             [1, 1, 2, 1], [2, 2, 2, 2], [5, 5, 5], [1, 1], [3]]
    res = krippendorff_alpha(units)
    assert res["alpha"] == pytest.approx(0.743, abs=0.0005) and res["records"] == 11 and res["values"] == 40


def test_krippendorff_alpha_planted_verdicts():
    # hand-computed (see tests/integration/test_review_workflow.py for the same table through the server):
    # coincidences o_aa=3, o_ar=o_ra=1, o_rn=o_nr=1, o_nn=3; n_a=4, n_r=2, n_n=4, n=10
    # alpha = 1 - (n-1) * 4 / (n^2 - sum n_c^2) = 1 - 9*4/64 = 0.4375
    units = [["accept", "accept", "reject"], ["accept", "accept"], ["reject", "needs_fix"],
             ["needs_fix"] * 3, ["accept"]]
    assert krippendorff_alpha(units) == {"alpha": 0.4375, "records": 4, "values": 10}
    assert krippendorff_alpha([["accept", "accept"], ["accept"]])["alpha"] is None  # no variation: undefined
    assert krippendorff_alpha([["accept", "reject"], ["reject", "accept"]])["alpha"] == pytest.approx(-0.5)


def test_agreement_report_per_pair_scenario_and_final():
    rows = [{"record_id": r, "annotator": a, "choice": c, "scenario": s} for r, a, c, s in [
        ("r1", "ana", "accept", "single_tool"), ("r1", "ben", "accept", "single_tool"),
        ("r2", "ana", "accept", "single_tool"), ("r2", "ben", "reject", "single_tool"),
        ("r3", "ana", "reject", "error_recovery"), ("r3", "cleo", "reject", "error_recovery"),
        ("r4", "cleo", "accept", "error_recovery")]]
    rep = agreement_report(rows, {"r1": "accept", "r2": "reject", "r3": "reject", "r4": "accept"})
    assert rep["records_with_several"] == 3 and rep["unanimous"] == 2 and rep["alpha_records"] == 3
    pair = rep["per_pair"]["ana | ben"]
    assert pair["records"] == 2 and pair["agreed"] == 1
    assert "ana | cleo" in rep["per_pair"] and "ben | cleo" not in rep["per_pair"]
    assert rep["per_scenario"]["error_recovery"]["records"] == 1
    assert rep["with_final_verdict"]["ana"] == {"agreement": round(2 / 3, 4), "records": 3, "agreed": 2}
    assert rep["with_final_verdict"]["cleo"]["records"] == 2


def test_status_counts_from_store(tmp_db, sample_records):
    with open_store(tmp_db) as st:
        st.upsert_records(sample_records, source="test")
        a, b = sample_records[0].id, sample_records[1].id
        st.con.execute("INSERT INTO review_verdicts (record_id, verdict, n_annotations) VALUES (?, 'accept', 2), "
                       "(?, 'reject', 1)", [a, b])
        rows = [(1, a, "ana", "ok", "accept"), (2, a, "ben", "ok", "accept"), (3, b, "ana", "ok", "reject"),
                (4, b, "ben", "skipped", None)]
        for ann_id, rid, who, status, choice in rows:
            st.con.execute(
                "INSERT INTO review_annotations (url, project_id, annotation_id, task_id, record_id, annotator, "
                "status, choice, edit_status) VALUES ('u', 1, ?, ?, ?, ?, ?, ?, 'none')",
                [ann_id, ann_id, rid, who, status, choice])
        st_ = review_status(st)
    assert st_["verdicts"] == {"accept": 1, "reject": 1, "needs_fix": 0}
    assert st_["annotators"]["ben"]["skipped"] == 1 and st_["annotators"]["ana"]["reject"] == 1
    assert st_["agreement"]["records_with_several"] == 1 and st_["agreement"]["unanimous"] == 1
    assert st_["agreement"]["with_final_verdict"]["ana"]["records"] == 2


def test_record_view_reads_like_the_record(by_scenario):
    from toolforge.review.edits import RecordView

    rec = by_scenario["complex_multi_step"]
    d = rec.to_dict()
    view = RecordView(rec.id, rec.scenario, d["tools"], d["messages"], d["meta"])
    assert view.final_answer == rec.final_answer
    assert [(c.name, c.arguments) for c in view.calls] == [(c.name, c.arguments) for c in rec.calls]
    assert view.record().id == rec.id
    reading = _reading(rec, answer="Done.", args_2='{"expression": "1 + 1"}')
    edit_view, edit_rec = find_edit(view, reading), find_edit(rec, reading)
    assert edit_view.to_json() == edit_rec.to_json()
    assert apply_edit(view, edit_view, meta={}).id == apply_edit(rec, edit_rec, meta={}).id
    with pytest.raises(EditError, match="schema"):
        find_edit(view, _reading(rec, args_2='{"expression": 5}'))
