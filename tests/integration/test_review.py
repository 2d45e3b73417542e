"""The review loop against a real Label Studio server: push, annotate as reviewers would, pull."""

from __future__ import annotations

import json
import uuid

import pytest

from toolforge.record import Record
from toolforge.review import connect, pull, push
from toolforge.store import Selection, open_store

pytestmark = pytest.mark.integration


def validated_store(path, records):
    from toolforge.validate import validate_store

    with open_store(path) as st:
        st.upsert_records(records, source="test")
        validate_store(st)
    return path


ANY = Selection(status="any")  # every sample record, whatever other areas' validators say of it


def choice(value):
    return {"from_name": "verdict", "to_name": "dialogue", "type": "choices", "value": {"choices": [value]}}


def box(name, text):
    return {"from_name": name, "to_name": "dialogue", "type": "textarea", "value": {"text": [text]}}


def rating(n):
    return {"from_name": "rating", "to_name": "dialogue", "type": "rating", "value": {"rating": n}}


def server_tasks(ls, project_id):
    return ls.export(project_id, all_tasks=True)


@pytest.fixture
def reviewers(labelstudio):
    ls = connect(labelstudio.url, labelstudio.token)
    tag = uuid.uuid4().hex[:6]
    users = [ls.sdk.users.create(email=f"{name}-{tag}@example.org", username=f"{name}-{tag}",
                                 password=uuid.uuid4().hex) for name in ("ana", "ben", "cleo")]
    return ls, users


def test_push_annotate_pull(labelstudio, reviewers, run_cli, tmp_path, sample_records):
    ls, (ana, ben, cleo) = reviewers
    db = validated_store(tmp_path / "store.duckdb", sample_records)
    project = f"review-{uuid.uuid4().hex[:6]}"
    env = labelstudio.env

    first = run_cli("review", "push", "--db", db, "--project", project, "--status", "any", "--json", env=env,
                    check=True)
    pushed = json.loads(first.stdout)
    assert pushed["imported"] == len(sample_records) and pushed["config_kind"] == "text"
    pid = pushed["project_id"]
    with open_store(db) as st:  # the library call behind the CLI (saves a process start)
        again = push(st, ls, project_title=project, selection=ANY).to_dict()
    assert again["project_id"] == pid and again["imported"] == 0 and again["unchanged"] == len(sample_records)
    tasks = server_tasks(ls, pid)
    assert len(tasks) == len(sample_records)
    by_rid = {t["data"]["record_id"]: t for t in tasks}
    assert all(t["meta"]["record_id"] == t["data"]["record_id"] for t in tasks)
    assert set(by_rid) == {r.id for r in sample_records}

    # The task is readable: who said what, the call as name(arguments), the pre-filled boxes.
    weather = sample_records[0]
    task = by_rid[weather.id]
    texts = [line["text"] for line in task["data"]["dialogue"]]
    assert 'get_weather(city="Oslo, Norway")' in texts
    assert any(line["author"].startswith("tool result") for line in task["data"]["dialogue"])
    full = ls.sdk.tasks.get(id=task["id"])
    prefill = {r["from_name"]: r["value"]["text"][0] for r in full.predictions[0].result}
    assert prefill["answer"] == weather.final_answer
    assert json.loads(prefill["args_1"]) == {"city": "Oslo, Norway"}

    rec = {r.scenario: r for r in sample_records if r.scenario != "single_tool"}
    camera = sample_records[7]
    ann = ls.sdk.annotations.create
    # accept, boxes left as pre-filled (not an edit)
    ann(id=by_rid[weather.id]["id"], completed_by=ana.id,
        result=[choice("accept"), rating(5), box("answer", weather.final_answer + "  "),
                box("args_1", '{ "city" : "Oslo, Norway" }')])
    # reject with a note
    ann(id=by_rid[rec["no_tool_needed"].id]["id"], completed_by=ana.id,
        result=[choice("reject"), rating(1), box("notes", "answer is off topic")])
    # accept with an edited final answer
    ann(id=by_rid[rec["multi_tool_parallel"].id]["id"], completed_by=ben.id,
        result=[choice("accept"), box("answer", "Lisbon: sunny, 19 °C. Reykjavik: colder.")])
    # needs_fix with edited (valid) arguments of call 2
    seq = rec["multi_tool_sequential"]
    ann(id=by_rid[seq.id]["id"], completed_by=ben.id,
        result=[choice("needs_fix"), box("args_2", '{"url": "https://duckdb.org/news/index.html"}')])
    # accept with an invalid JSON edit
    ann(id=by_rid[rec["reasoning_heavy"].id]["id"], completed_by=cleo.id,
        result=[choice("accept"), box("args_1", '{"expression": "2500 * 1.04 ** 7", "precision": 2')])
    # JSON that breaks the tool's schema (degrees must be an integer)
    ann(id=by_rid[camera.id]["id"], completed_by=cleo.id,
        result=[choice("accept"), box("args_1", '{"degrees": "twenty"}')])
    # several annotators: a tie (accept vs reject) resolves to reject
    err = rec["error_recovery"]
    ann(id=by_rid[err.id]["id"], completed_by=ana.id, result=[choice("accept")])
    ann(id=by_rid[err.id]["id"], completed_by=ben.id, result=[choice("reject")])
    # majority accept (2 of 3), one of them with an edited answer that is applied
    cms = rec["complex_multi_step"]
    ann(id=by_rid[cms.id]["id"], completed_by=ana.id, result=[choice("accept")])
    ann(id=by_rid[cms.id]["id"], completed_by=ben.id, result=[choice("accept"), box("answer", "Done: sent.")])
    ann(id=by_rid[cms.id]["id"], completed_by=cleo.id, result=[choice("reject")])

    # an annotation that does not fit the labeling config, and a skipped task: kept, but not counted
    ann(id=by_rid[weather.id]["id"], completed_by=cleo.id, result=[choice("maybe")])
    ann(id=by_rid[rec["no_tool_needed"].id]["id"], completed_by=ben.id, was_cancelled=True, result=[])

    res = json.loads(run_cli("review", "pull", "--db", db, "--project", project, "--json", env=env,
                             check=True).stdout)
    assert res["annotations"] == 13 and res["revisions"] == 3
    assert res["skipped"] == 1 and res["invalid_annotations"] == 1
    # an accept that came with an invalid edit is held back (needs_fix) until the edit is corrected
    assert res["verdicts"] == {"accept": 3, "reject": 2, "needs_fix": 3}
    reasons = {e["record_id"]: e["reason"] for e in res["invalid_edits"]}
    assert set(reasons) == {rec["reasoning_heavy"].id, camera.id}
    assert "not valid JSON" in reasons[rec["reasoning_heavy"].id]
    assert "degrees" in reasons[camera.id] and "schema" in reasons[camera.id]

    with open_store(db, read_only=True) as st:
        verdicts = dict(st.con.execute("SELECT record_id, verdict FROM review_verdicts").fetchall())
        assert verdicts[weather.id] == "accept"
        assert verdicts[rec["no_tool_needed"].id] == "reject"
        assert verdicts[err.id] == "reject"
        assert verdicts[cms.id] == "accept"
        assert verdicts[rec["reasoning_heavy"].id] == "needs_fix"
        assert verdicts[seq.id] == "needs_fix"
        # revisions: the original is kept, the edit is a child with the same verdict
        revs = {p: Record.model_validate(json.loads(json.dumps(
            {"tools": json.loads(t), "messages": json.loads(m), "scenario": s})))
            for p, t, m, s in st.con.execute(
                "SELECT parent_id, tools, messages, scenario FROM records WHERE source = 'review'").fetchall()}
        assert set(revs) == {rec["multi_tool_parallel"].id, seq.id, cms.id}
        assert revs[rec["multi_tool_parallel"].id].final_answer == "Lisbon: sunny, 19 °C. Reykjavik: colder."
        assert revs[seq.id].calls[1].arguments == {"url": "https://duckdb.org/news/index.html"}
        assert revs[seq.id].calls[0].arguments == seq.calls[0].arguments
        assert revs[cms.id].final_answer == "Done: sent."
        for parent, child in revs.items():
            assert st.get_record(parent) is not None
            assert verdicts[child.id] == "accept"  # accepted edits, and the needs_fix settled by a valid fix
        assert st.con.execute("SELECT revision FROM records WHERE parent_id = ?", [seq.id]).fetchone()[0] == 1
        # no revision for the invalid edits or the unchanged pre-filled boxes
        assert st.con.execute("SELECT count(*) FROM records WHERE parent_id IN (?, ?, ?)",
                              [weather.id, rec["reasoning_heavy"].id, camera.id]).fetchone()[0] == 0
        rows = st._dicts("SELECT annotator, choice, rating, notes, edit_status, edit_reason, annotated_at "
                         "FROM review_annotations WHERE record_id = ?", [rec["no_tool_needed"].id])
        assert rows[0]["annotator"] == ana.email and rows[0]["rating"] == 1
        assert rows[0]["notes"] == "answer is off topic" and rows[0]["annotated_at"] is not None
        bad = st._dicts("SELECT status, problem, choice FROM review_annotations WHERE record_id = ? AND annotator = ?",
                        [weather.id, cleo.email])[0]
        assert bad["status"] == "invalid" and "labeling config" in bad["problem"] and bad["choice"] is None
        assert st.con.execute("SELECT n_annotations FROM review_verdicts WHERE record_id = ?",
                              [weather.id]).fetchone()[0] == 1
        cms_rows = {r["annotator"]: r for r in st._dicts(
            "SELECT annotator, edit_status FROM review_annotations WHERE record_id = ?", [cms.id])}
        assert cms_rows[ben.email]["edit_status"] == "applied"
        # curated = accepted, latest revision: the edited record replaces its original
        curated = set(st.select_ids(Selection(status="curated")))
        assert revs[rec["multi_tool_parallel"].id].id in curated
        assert rec["multi_tool_parallel"].id not in curated
        assert weather.id in curated and rec["no_tool_needed"].id not in curated
        n_records = st.count_records()

    # pulling again changes nothing
    with open_store(db) as st:
        res2 = pull(st, ls, project_title=project).to_dict()
    assert res2["revisions"] == 0 and res2["verdicts"] == res["verdicts"]
    with open_store(db, read_only=True) as st:
        assert st.count_records() == n_records
        assert st.con.execute("SELECT count(*) FROM review_annotations").fetchone()[0] == 13

    status = json.loads(run_cli("review", "status", "--db", db, "--json", check=True).stdout)
    assert status["verdicts"] == {"accept": 4, "reject": 2, "needs_fix": 2}
    assert status["annotators"][ana.email]["annotations"] == 4
    assert status["annotators"][cleo.email]["accept"] == 2 and status["annotators"][cleo.email]["reject"] == 1
    assert status["annotators"][cleo.email]["invalid"] == 1 and status["annotators"][ben.email]["skipped"] == 1
    assert status["agreement"]["records_with_several"] == 2 and status["agreement"]["unanimous"] == 0
    # Krippendorff's alpha over (accept, reject) and (accept, accept, reject): 1 - 4 * 4 / 12
    assert status["agreement"]["alpha"] == pytest.approx(-1 / 3, abs=1e-4)

    # export takes the review into account: accepted records only, edited revisions instead of originals
    out = tmp_path / "export"
    run_cli("export", "--db", db, "--format", "openai", "--out", out, check=True)
    lines = [json.loads(line) for f in sorted(out.rglob("*.jsonl")) for line in f.read_text().splitlines() if line]
    answers = [m["content"] for line in lines for m in line["messages"][-1:]]
    assert len(lines) == 4  # weather, and the revisions of multi_tool_parallel, multi_tool_sequential, complex
    assert "Lisbon: sunny, 19 °C. Reykjavik: colder." in answers and "Done: sent." in answers
    assert rec["multi_tool_parallel"].final_answer not in answers
    assert rec["no_tool_needed"].final_answer not in answers and err.final_answer not in answers

    # an annotator changes an applied edit: the new edit revises the latest revision (a chain, so
    # "latest revision" stays one record), and the verdict follows
    first_rev = revs[cms.id].id
    mine = next(a for a in ls.sdk.annotations.list(id=by_rid[cms.id]["id"]) if a.completed_by == ben.id)
    ls.sdk.annotations.update(id=mine.id, result=[choice("accept"), box("answer", "Done: the email is sent.")])
    with open_store(db) as st:
        assert pull(st, ls, project_title=project).revisions == 1
        second_rev, rev_no = st.con.execute("SELECT id, revision FROM records WHERE parent_id = ?",
                                            [first_rev]).fetchone()
        assert rev_no == 2 and st.get_record(second_rev).final_answer == "Done: the email is sent."
        curated = set(st.select_ids(Selection(status="curated")))
        assert second_rev in curated and first_rev not in curated and cms.id not in curated
        assert st.con.execute("SELECT verdict FROM review_verdicts WHERE record_id = ?",
                              [second_rev]).fetchone()[0] == "accept"

    # reviewed records are not pushed again by default; the project keeps one task per record
    with open_store(db) as st:
        third = push(st, ls, project_title=project, selection=ANY).to_dict()
    assert third["imported"] == 0 and third["selected"] == 0
    assert len(server_tasks(ls, pid)) == len(sample_records)


def test_push_scenario_session_takes_the_sessions_only(labelstudio, run_cli, tmp_path):
    """`review push -s session` selects multi-turn sessions (scenario None), as stats/export do."""
    from tests.fixtures.sessions import mixed_store

    db = tmp_path / "mixed.duckdb"
    ids = mixed_store(db)
    project = f"sessions-{uuid.uuid4().hex[:6]}"
    pushed = json.loads(run_cli("review", "push", "-s", "session", "--status", "any", "--project", project,
                                "--db", db, "--json", env=labelstudio.env, check=True).stdout)
    assert (pushed["selected"], pushed["imported"]) == (1, 1), pushed
    (task,) = server_tasks(connect(labelstudio.url, labelstudio.token), pushed["project_id"])
    assert task["data"]["record_id"] == ids["session"][0]
    texts = [line["text"] for line in task["data"]["dialogue"]]
    assert "And in Porto?" in texts and "Thanks, that is all I needed." in texts  # every round of the session
