"""The review workflow an annotation lead and three annotators run, against a real Label Studio server:
fixes reach the export, refused edits are reported on the task, revisions and deleted tasks, agreement
on a planted table, ground truth settling a tie, overlap, and feedback through a real webhook."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from toolforge.review import connect, pull, push
from toolforge.review.webhook import FeedbackServer, register
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


@pytest.fixture
def team(labelstudio):
    ls = connect(labelstudio.url, labelstudio.token)
    tag = uuid.uuid4().hex[:6]
    users = {name: ls.sdk.users.create(email=f"{name}-{tag}@example.org", username=f"{name}-{tag}",
                                       password=uuid.uuid4().hex) for name in ("ana", "ben", "cleo", "lead")}
    return ls, users


def tasks_by_record(ls, pid):
    return {t["meta"]["record_id"]: t for t in ls.export(pid, all_tasks=True)
            if (t["data"].get("review_state") or "open") != "superseded"}


def curated(db):
    with open_store(db, read_only=True) as st:
        return set(st.select_ids(Selection(status="curated")))


def test_fixes_refusals_revisions_and_deletions(labelstudio, team, run_cli, tmp_path, sample_records):
    ls, u = team
    db = validated_store(tmp_path / "store.duckdb", sample_records)
    project = f"flow-{uuid.uuid4().hex[:6]}"
    with open_store(db) as st:
        pid = push(st, ls, project_title=project, overlap=3, selection=ANY).project_id
    assert ls.get_project(pid).maximum_annotations == 3          # overlap is a project setting
    by = tasks_by_record(ls, pid)
    weather, seq, reasoning, camera = sample_records[0], sample_records[2], sample_records[5], sample_records[7]
    err = sample_records[4]
    ann = ls.sdk.annotations.create

    # needs_fix with a valid fix: the fixed revision is curated, the original is not
    ann(id=by[seq.id]["id"], completed_by=u["ana"].id,
        result=[choice("needs_fix"), box("args_2", '{"url": "https://duckdb.org/news/index.html"}')])
    # needs_fix with a valid fix, but another annotator rejects: nothing curated
    ann(id=by[err.id]["id"], completed_by=u["ana"].id,
        result=[choice("needs_fix"), box("answer", "It is 14 °C in San Francisco.")])
    ann(id=by[err.id]["id"], completed_by=u["ben"].id, result=[choice("reject")])
    ann(id=by[err.id]["id"], completed_by=u["cleo"].id, result=[choice("needs_fix")])
    # accept with an invalid edit: not accepted, the reason goes to the task
    bad = ann(id=by[camera.id]["id"], completed_by=u["cleo"].id,
              result=[choice("accept"), box("args_1", '{"degrees": "twenty"}')])
    # plain accept
    ann(id=by[weather.id]["id"], completed_by=u["ben"].id, result=[choice("accept")])
    # a fix that changes the tool result after changing the arguments is not flagged; one that does not is
    ann(id=by[reasoning.id]["id"], completed_by=u["ben"].id,
        result=[choice("needs_fix"), box("args_1", '{"expression": "2500 * 1.04 ** 8", "precision": 2}')])

    with open_store(db) as st:
        res = pull(st, ls, project_title=project)
        revs = {p: rid for p, rid in st.con.execute(
            "SELECT parent_id, id FROM records WHERE source = 'review'").fetchall()}
        outcome = dict(st.con.execute("SELECT record_id, basis FROM review_outcomes").fetchall())
        verdict = dict(st.con.execute("SELECT record_id, verdict FROM review_verdicts").fetchall())
        flagged = st.get_record(revs[reasoning.id]).meta["review"]["possibly_stale"]
    assert res.pending == 1 and res.invalid_edits[0]["record_id"] == camera.id
    assert set(revs) == {seq.id, err.id, reasoning.id}
    assert verdict[seq.id] == "needs_fix" and verdict[revs[seq.id]] == "accept" and outcome[revs[seq.id]] == "fixed"
    assert verdict[revs[err.id]] == "needs_fix"                     # someone rejected: the fix is not curated
    assert verdict[camera.id] == "needs_fix" and outcome[camera.id] == "invalid_edit"
    assert any("tool result" in f for f in flagged) and any("final answer" in f for f in flagged)
    cur = curated(db)
    assert revs[seq.id] in cur and seq.id not in cur
    assert revs[err.id] not in cur and camera.id not in cur and weather.id in cur
    task = ls.sdk.tasks.get(id=str(by[camera.id]["id"]))
    assert task.data["review_state"] == "edit_refused"
    assert "degrees" in task.data["review_feedback"] and "schema" in task.data["review_feedback"]
    flagged_task = ls.sdk.tasks.get(id=str(by[reasoning.id]["id"]))
    assert flagged_task.data["review_state"] == "check" and "tool result" in flagged_task.data["review_feedback"]

    # the export holds the fix, not the original
    out = tmp_path / "export"
    run_cli("export", "--db", db, "--format", "openai", "--out", out, check=True)
    exported = [json.loads(line) for f in out.rglob("*.jsonl") for line in f.read_text().splitlines() if line]
    urls = [c["function"]["arguments"] for r in exported for m in r["messages"] for c in m.get("tool_calls") or []]
    assert any("index.html" in a for a in urls) and not any(a == '{"url": "https://duckdb.org/news/"}' for a in urls)

    # the annotator corrects the refused edit: accepted, fixed revision, the refusal gone from the task
    ls.sdk.annotations.update(id=bad.id, result=[choice("accept"), box("args_1", '{"degrees": 25}')])
    with open_store(db) as st:
        pull(st, ls, project_title=project)
        cam_rev = st.con.execute("SELECT id FROM records WHERE parent_id = ?", [camera.id]).fetchone()[0]
    assert cam_rev in curated(db)
    fixed = ls.sdk.tasks.get(id=str(by[camera.id]["id"])).data
    # the refusal is gone; what remains is the flag that the tool result was not edited with the arguments
    assert fixed["review_state"] == "check" and "refused" not in fixed["review_feedback"]
    assert "tool result" in fixed["review_feedback"]

    # a revision pushed again says it is one, links its parent's task, and the parent's task is marked
    with open_store(db) as st:
        again = push(st, ls, project_title=project, unreviewed_only=False, selection=Selection(
            status="any", ids=[revs[seq.id]]))
    assert again.imported == 1 and again.revisions == 1 and again.superseded == 1
    rev_task = next(t for t in ls.export(pid, all_tasks=True) if t["meta"]["record_id"] == revs[seq.id])
    assert rev_task["data"]["revision_of"] == seq.id and rev_task["data"]["parent_task"] == by[seq.id]["id"]
    assert "revision 1 of" in rev_task["data"]["title"]
    old = ls.sdk.tasks.get(id=str(by[seq.id]["id"]))
    assert old.data["review_state"] == "superseded" and str(rev_task["id"]) in old.data["review_feedback"]
    # the revision is judged on its own task: a reject there is not overridden by the parent's fix
    ls.sdk.annotations.create(id=rev_task["id"], completed_by=u["ben"].id, result=[choice("reject")])
    with open_store(db) as st:
        pull(st, ls, project_title=project)
        assert st.con.execute("SELECT verdict FROM review_verdicts WHERE record_id = ?",
                              [revs[seq.id]]).fetchone()[0] == "reject"
    assert revs[seq.id] not in curated(db)

    # a task the lead deleted is not re-created; --restore brings it back
    ls.sdk.tasks.delete(id=str(by[weather.id]["id"]))
    with open_store(db) as st:
        st.con.execute("DELETE FROM review_verdicts WHERE record_id = ?", [weather.id])  # unreviewed again
    env = labelstudio.env
    second = json.loads(run_cli("review", "push", "--db", db, "--project", project, "--status", "any", "--json", env=env,
                                check=True).stdout)
    assert second["imported"] == 0 and second["deleted_on_server"] == 1 and second["deleted_skipped"] == 1
    assert weather.id not in tasks_by_record(ls, pid)
    third = json.loads(run_cli("review", "push", "--db", db, "--project", project, "--status", "any", "--json", env=env,
                               check=True).stdout)
    assert third["imported"] == 0 and third["deleted_skipped"] == 1
    restored = json.loads(run_cli("review", "push", "--db", db, "--project", project, "--status", "any", "--restore", "--json",
                                  env=env, check=True).stdout)
    assert restored["imported"] == 1 and restored["restored"] == 1
    assert weather.id in tasks_by_record(ls, pid)


def test_planted_agreement_and_ground_truth(labelstudio, team, run_cli, tmp_path, sample_records):
    ls, u = team
    db = validated_store(tmp_path / "store.duckdb", sample_records)
    project = f"agree-{uuid.uuid4().hex[:6]}"
    with open_store(db) as st:
        pid = push(st, ls, project_title=project, selection=ANY).project_id
    by = tasks_by_record(ls, pid)
    r = sample_records
    a, b, c = u["ana"].id, u["ben"].id, u["cleo"].id
    # the planted table of tests/unit/review (hand-computed alpha = 0.4375 over 4 records)
    planted = [(r[0], [(a, "accept"), (b, "accept"), (c, "reject")]),
               (r[1], [(a, "accept"), (b, "accept")]),
               (r[2], [(a, "reject"), (b, "needs_fix")]),
               (r[3], [(a, "needs_fix"), (b, "needs_fix"), (c, "needs_fix")]),
               (r[5], [(a, "accept")])]
    for rec, votes in planted:
        for who, verdict in votes:
            ls.sdk.annotations.create(id=by[rec.id]["id"], completed_by=who, result=[choice(verdict)])
    with open_store(db) as st:
        pull(st, ls, project_title=project)
    status = json.loads(run_cli("review", "status", "--db", db, "--json", check=True).stdout)
    ag = status["agreement"]
    assert ag["alpha"] == 0.4375 and ag["alpha_records"] == 4
    assert ag["per_pair"][f"{u['ana'].email} | {u['ben'].email}"]["records"] == 4
    assert ag["per_scenario"]["single_tool"]["records"] == 1
    assert ag["with_final_verdict"][u["cleo"].email] == {"agreement": 0.5, "records": 2, "agreed": 1}
    table = run_cli("review", "status", "--db", db, env={"COLUMNS": "80"}, check=True).stdout
    assert u["cleo"].email in table                                  # names are not cut

    # a tie (accept vs reject) goes to reject; the lead's ground-truth annotation settles it
    tie = r[6]
    ls.sdk.annotations.create(id=by[tie.id]["id"], completed_by=a, result=[choice("accept")])
    ls.sdk.annotations.create(id=by[tie.id]["id"], completed_by=b, result=[choice("reject")])
    with open_store(db) as st:
        pull(st, ls, project_title=project)
        assert st.con.execute("SELECT verdict FROM review_verdicts WHERE record_id = ?", [tie.id]).fetchone()[0] == "reject"
    ls.sdk.annotations.create(id=by[tie.id]["id"], completed_by=u["lead"].id, ground_truth=True,
                              result=[choice("accept")])
    with open_store(db) as st:
        res = pull(st, ls, project_title=project)
        row = st.con.execute("SELECT v.verdict, o.basis, o.detail FROM review_verdicts v JOIN review_outcomes o "
                             "USING (record_id) WHERE record_id = ?", [tie.id]).fetchone()
    assert res.ground_truth == 1 and row[0] == "accept" and row[1] == "ground_truth" and u["lead"].email in row[2]
    # --lead names the lead instead of marking annotations
    tie2 = r[7]
    ls.sdk.annotations.create(id=by[tie2.id]["id"], completed_by=a, result=[choice("accept")])
    ls.sdk.annotations.create(id=by[tie2.id]["id"], completed_by=b, result=[choice("reject")])
    ls.sdk.annotations.create(id=by[tie2.id]["id"], completed_by=u["lead"].id, result=[choice("accept")])
    with open_store(db) as st:
        pull(st, ls, project_title=project)
        majority = st.con.execute("SELECT verdict FROM review_verdicts WHERE record_id = ?", [tie2.id]).fetchone()[0]
        pull(st, ls, project_title=project, leads=[u["lead"].email])
        led = st.con.execute("SELECT basis FROM review_outcomes WHERE record_id = ?", [tie2.id]).fetchone()[0]
    assert majority == "accept" and led == "ground_truth"


def test_overlap_is_honoured_by_the_labeling_queue(labelstudio, team, tmp_path, sample_records):
    ls, u = team
    db = validated_store(tmp_path / "store.duckdb", sample_records[:2])
    project = f"overlap-{uuid.uuid4().hex[:6]}"
    with open_store(db) as st:
        pid = push(st, ls, project_title=project, overlap=2, selection=ANY).project_id
    task = next(iter(tasks_by_record(ls, pid).values()))
    ls.sdk.annotations.create(id=task["id"], completed_by=u["ana"].id, result=[choice("accept")])
    assert ls.sdk.tasks.get(id=str(task["id"])).is_labeled is False   # one of two: still in the queue
    ls.sdk.annotations.create(id=task["id"], completed_by=u["ben"].id, result=[choice("accept")])
    assert ls.sdk.tasks.get(id=str(task["id"])).is_labeled is True    # two of two: done


def test_webhook_feedback_round_trip(labelstudio, team, tmp_path, sample_records):
    """A real webhook from the real server (which runs with SSRF_PROTECTION_ENABLED=false so that it may
    call 127.0.0.1) reaches the endpoint, which writes the check to the task within seconds."""
    ls, u = team
    db = validated_store(tmp_path / "store.duckdb", sample_records)
    project = f"hook-{uuid.uuid4().hex[:6]}"
    with open_store(db) as st:
        pid = push(st, ls, project_title=project, selection=ANY).project_id
    by = tasks_by_record(ls, pid)
    camera, weather = sample_records[7], sample_records[0]
    seen: list[tuple[int, str, str]] = []
    with FeedbackServer(connect(labelstudio.url, labelstudio.token), on_result=lambda *a: seen.append(a)) as hook:
        register(ls, pid, hook.url, hook.secret)
        register(ls, pid, hook.url, hook.secret)   # idempotent
        assert len([h for h in ls.sdk.webhooks.list(project=str(pid)) if h.url == hook.url]) == 1

        def wait_for(task_id, state, timeout=15.0):
            start = time.monotonic()
            while time.monotonic() - start < timeout:
                data = ls.sdk.tasks.get(id=str(task_id)).data
                if data.get("review_state") == state:
                    return data, time.monotonic() - start
                time.sleep(0.2)
            raise AssertionError(f"task {task_id} never reached {state}: {data}; endpoint saw {seen}")

        start = time.monotonic()
        made = ls.sdk.annotations.create(id=by[camera.id]["id"], completed_by=u["ana"].id,
                                         result=[choice("accept"), box("args_1", '{"degrees": "twenty"}')])
        data, _ = wait_for(by[camera.id]["id"], "edit_refused")
        elapsed = time.monotonic() - start
        assert "degrees" in data["review_feedback"] and f"annotation {made.id}" in data["review_feedback"]
        assert elapsed < 10, elapsed
        # the annotator corrects it: ANNOTATION_UPDATED, and the task says it is fine now
        ls.sdk.annotations.update(id=made.id, result=[choice("accept"), box("args_1", '{"degrees": 30}')])
        data, _ = wait_for(by[camera.id]["id"], "check")   # arguments changed, result/answer not: a flag
        assert "edit valid" in data["review_feedback"]
        ls.sdk.annotations.create(id=by[weather.id]["id"], completed_by=u["ben"].id, result=[choice("reject")])
        data, _ = wait_for(by[weather.id]["id"], "ok")
        assert "reject: valid" in data["review_feedback"]
        # a forged request without the secret is refused
        import httpx

        assert httpx.post(hook.url, json={"action": "ANNOTATION_CREATED"}, timeout=5).status_code == 403
    print(f"webhook round trip: {elapsed:.2f} s")


def test_feedback_command_serves_a_project(labelstudio, team, tmp_path, sample_records):
    """`toolforge review feedback` (for a server toolforge did not start) registers the webhook and answers it."""
    import os
    import signal
    import subprocess
    import sys

    from toolforge.review.server import free_port

    ls, u = team
    db = validated_store(tmp_path / "store.duckdb", sample_records[:2])
    project = f"cmd-{uuid.uuid4().hex[:6]}"
    with open_store(db) as st:
        pid = push(st, ls, project_title=project, selection=ANY).project_id
    port = free_port()
    env = {**os.environ, **labelstudio.env}
    log = open(tmp_path / "feedback.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen([sys.executable, "-m", "toolforge", "review", "feedback", "--project", project,
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while f"127.0.0.1:{port}/webhook" not in (tmp_path / "feedback.log").read_text():
            assert proc.poll() is None, (tmp_path / "feedback.log").read_text()
            assert time.monotonic() < deadline, "the feedback command did not start"
            time.sleep(0.3)
        task = tasks_by_record(ls, pid)[sample_records[0].id]
        ls.sdk.annotations.create(id=task["id"], completed_by=u["ana"].id,
                                  result=[choice("needs_fix"), box("args_1", '{"city": 5}')])
        deadline = time.monotonic() + 15
        while (ls.sdk.tasks.get(id=str(task["id"])).data.get("review_state") or "open") == "open":
            assert time.monotonic() < deadline, (tmp_path / "feedback.log").read_text()
            time.sleep(0.3)
        data = ls.sdk.tasks.get(id=str(task["id"])).data
        assert data["review_state"] == "edit_refused" and "city" in data["review_feedback"]
    finally:
        os.killpg(proc.pid, signal.SIGINT)   # Ctrl-C: the command stops its endpoint
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
