"""Bad input and faults: one-line errors that name the fix, the store unchanged, no lost or doubled tasks."""

from __future__ import annotations

import json
import uuid

import pytest

from toolforge.errors import ExternalServiceError, UsageError
from toolforge.record import Record
from toolforge.review import connect, pull, push
from toolforge.review.client import LabelStudioDown
from toolforge.review.server import free_port
from toolforge.store import Selection, open_store

pytestmark = pytest.mark.integration

ANY = Selection(status="any")  # every record, whatever other areas' validators say of the sample-derived ones
TABLES = ("records", "review_verdicts", "review_annotations", "review_tasks", "review_projects", "validations")


def variants(sample_records, n):
    """n distinct valid records: the samples with a numbered user request."""
    out = []
    for i in range(n):
        d = sample_records[i % len(sample_records)].to_dict()
        d.pop("id")
        for m in d["messages"]:
            if m["role"] == "user":
                m["content"] = f"{m['content']} (variant {i})"
                break
        out.append(Record.model_validate(d))
    return out


def make_store(path, records):
    from toolforge.validate import validate_store

    with open_store(path) as st:
        st.upsert_records(records, source="test")
        validate_store(st)
    return path


def snapshot(db):
    with open_store(db, read_only=True) as st:
        return {t: sorted(map(str, st.con.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}


def one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and len(lines) <= 2, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in proc.stderr, proc.stderr
    return lines


def test_bad_input_leaves_store_unchanged(labelstudio, run_cli, tmp_path, sample_records):
    db = make_store(tmp_path / "store.duckdb", sample_records)
    project = f"bad-{uuid.uuid4().hex[:6]}"
    ok = run_cli("review", "push", "--db", db, "--project", project, "--status", "any", "--json", env=labelstudio.env,
                 check=True)
    pid = json.loads(ok.stdout)["project_id"]
    before = snapshot(db)

    wrong = {**labelstudio.env, "LABEL_STUDIO_API_KEY": "0" * 40}
    lines = one_line_error(run_cli("review", "push", "--db", db, "--project", project, env=wrong),
                           "refused the token", "LABEL_STUDIO_API_KEY")
    assert "0" * 40 not in "\n".join(lines)  # the secret is never echoed
    down_url = f"http://127.0.0.1:{free_port()}"
    down = {**labelstudio.env, "LABEL_STUDIO_URL": down_url}
    one_line_error(run_cli("review", "push", "--db", db, env=down), "cannot reach Label Studio", "review serve")
    one_line_error(run_cli("review", "push", "--db", db, "--project-id", "987654", env=labelstudio.env),
                   "no project 987654", "--project")
    # the same errors from the library (what pull raises before it reads anything)
    with pytest.raises(ExternalServiceError, match="refused the token"):
        connect(labelstudio.url, "1" * 40)
    with pytest.raises(ExternalServiceError, match="cannot reach"):
        connect(down_url, labelstudio.token)
    with open_store(db) as st, pytest.raises(UsageError, match="no project titled") as exc:
        pull(st, connect(labelstudio.url, labelstudio.token), project_title="no such project here")
    assert "push" in (exc.value.hint or "")

    bad_xml = tmp_path / "bad.xml"
    bad_xml.write_text('<View><Choices name="verdict" toName="nowhere"><Choice value="accept"/></Choices></View>')
    one_line_error(run_cli("review", "push", "--db", db, "--project", "x-" + project, "--label-config", bad_xml,
                           env=labelstudio.env), "not a valid Label Studio labeling config", "review_text.xml")
    no_verdict = tmp_path / "no_verdict.xml"
    no_verdict.write_text('<View><Text name="t" value="$title"/><TextArea name="notes" toName="t"/></View>')
    one_line_error(run_cli("review", "push", "--db", db, "--project", "y-" + project, "--label-config", no_verdict,
                           env=labelstudio.env), "verdict")
    # a project that is not a review project (someone else's config) is refused, not overwritten
    ls = connect(labelstudio.url, labelstudio.token)
    other = ls.sdk.projects.create(title=f"other-{project}", label_config='<View><Text name="t" value="$text"/>'
                                   '<Choices name="sentiment" toName="t"><Choice value="pos"/></Choices></View>')
    one_line_error(run_cli("review", "push", "--db", db, "--project-id", str(other.id), env=labelstudio.env),
                   "verdict")
    assert len(ls.export(other.id, all_tasks=True)) == 0
    assert snapshot(db) == before
    assert len(ls.export(pid, all_tasks=True)) == len(sample_records)


def test_server_rejects_config(labelstudio):
    """The server's own check (beyond the SDK's) becomes a one-line error with the fix."""
    ls = connect(labelstudio.url, labelstudio.token)
    with pytest.raises(ExternalServiceError) as exc:
        ls.create_project(f"rejected-{uuid.uuid4().hex[:6]}",
                          '<View><Choices name="verdict" toName="nope"><Choice value="accept"/></Choices></View>')
    assert "rejected the labeling config" in str(exc.value) and "nope" in str(exc.value)
    assert "--label-config" in (exc.value.hint or "")


def test_server_stops_mid_push_then_resumes(private_labelstudio, run_cli, tmp_path, sample_records):
    srv = private_labelstudio
    records = variants(sample_records, 30)
    db = make_store(tmp_path / "store.duckdb", records)
    ls = connect(srv.url, srv.token)

    def stop_after_two_chunks(done):
        if done == 10:
            srv.server.stop()

    with open_store(db) as st, pytest.raises(LabelStudioDown) as exc:
        push(st, ls, project_title="fault", chunk_size=5, on_chunk=stop_after_two_chunks, selection=ANY)
    assert "a re-run resumes" in (exc.value.hint or "")
    with open_store(db, read_only=True) as st:
        assert st.con.execute("SELECT count(*) FROM review_tasks").fetchone()[0] == 10

    srv.restart()
    res = json.loads(run_cli("review", "push", "--db", db, "--project", "fault", "--chunk-size", "7", "--status", "any",
                             "--json",
                             env=srv.env, check=True).stdout)
    assert res["imported"] == 20 and res["unchanged"] == 10
    assert_one_task_per_record(ls, res["project_id"], records, db)
    with open_store(db, read_only=True) as st:
        runs = [r[0] for r in st.con.execute("SELECT status FROM runs WHERE kind = 'review' ORDER BY created_at").fetchall()]
    assert runs == ["failed", "done"]


def test_lost_response_is_adopted_not_duplicated(private_labelstudio, run_cli, tmp_path, sample_records):
    """Tasks the server committed but the store never heard of (the push died after the import request)."""
    srv = private_labelstudio
    records = variants(sample_records, 12)
    db = make_store(tmp_path / "store.duckdb", records)
    first = json.loads(run_cli("review", "push", "--db", db, "--project", "lost", "--status", "any", "--json", env=srv.env,
                               check=True).stdout)
    with open_store(db) as st:
        st.con.execute("DELETE FROM review_tasks WHERE record_id IN (SELECT record_id FROM review_tasks LIMIT 5)")
    res = json.loads(run_cli("review", "push", "--db", db, "--project", "lost", "--status", "any", "--json", env=srv.env,
                             check=True).stdout)
    assert res["imported"] == 0 and res["adopted"] == 5 and res["project_id"] == first["project_id"]
    ls = connect(srv.url, srv.token)
    assert_one_task_per_record(ls, res["project_id"], records, db)


def assert_one_task_per_record(ls, project_id, records, db):
    tasks = ls.export(project_id, all_tasks=True)
    rids = [t["meta"]["record_id"] for t in tasks]
    assert len(rids) == len(set(rids)) == len(records), "duplicate or missing tasks"
    assert set(rids) == {r.id for r in records}
    with open_store(db, read_only=True) as st:
        stored = dict(st.con.execute("SELECT record_id, task_id FROM review_tasks WHERE project_id = ?",
                                     [project_id]).fetchall())
    assert stored == {t["meta"]["record_id"]: t["id"] for t in tasks}


