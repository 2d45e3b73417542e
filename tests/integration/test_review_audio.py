"""Audio review: spoken user turns served through a local-files storage, tasks updated when audio
arrives, and a screenshot of the labeling UI (conversation, tool call, audio player)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.review_audio_helpers import speak_user_turns
from tests.integration.review_browser import login_cookies, screenshot
from toolforge.review import connect
from toolforge.review.server import load_credentials
from toolforge.store import open_store

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_audio_push_update_and_screenshot(labelstudio, run_cli, tmp_path, sample_records):
    from toolforge.validate import validate_store

    db = tmp_path / "store.duckdb"  # under the server's local-files root (the session's temp folder)
    with open_store(db) as st:
        st.upsert_records(sample_records, source="test")
        validate_store(st)
        speak_user_turns(st, sample_records[:1])
    project = f"audio-{uuid.uuid4().hex[:6]}"
    args = ("review", "push", "--db", db, "--project", project, "--files-root", labelstudio.files_root, "--status", "any",
            "--json")
    first = json.loads(run_cli(*args, env=labelstudio.env, check=True).stdout)
    assert first["config_kind"] == "audio" and first["imported"] == 8 and first["with_audio"] == 1

    # audio arrives for two more records (one with its spoken reply too): their tasks are updated,
    # nothing is imported twice
    with open_store(db) as st:
        speak_user_turns(st, sample_records[1:2])
        speak_user_turns(st, sample_records[2:3], roles=("user", "assistant"))
    second = json.loads(run_cli(*args, env=labelstudio.env, check=True).stdout)
    assert second["imported"] == 0 and second["updated"] == 2 and second["unchanged"] == 6
    ls = connect(labelstudio.url, labelstudio.token)
    tasks = {t["meta"]["record_id"]: t for t in ls.export(first["project_id"], all_tasks=True)}
    assert len(tasks) == 8
    for rec in sample_records[:3]:
        task = tasks[rec.id]
        url = task["data"]["audio"]
        assert url.startswith("/data/local-files/?d=")
        wav = httpx.get(labelstudio.url + url, headers={"Authorization": f"Token {labelstudio.token}"}, timeout=30)
        assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
        user_line = next(line for line in task["data"]["dialogue"] if line["author"] == "user")
        assert user_line["start"] == 0 and user_line["end"] > 0.5  # the player is synced to the user turn
    assert tasks[sample_records[5].id]["data"]["audio"] == ""
    # two spoken turns: one joined file, the player synced to the request and to the reply
    both = tasks[sample_records[2].id]
    assert "/_review/" in both["data"]["audio"]
    spoken = [line for line in both["data"]["dialogue"] if "start" in line]
    assert [line["author"] for line in spoken] == ["user", "assistant"]
    assert spoken[0]["start"] == 0 and spoken[1]["start"] >= spoken[0]["end"] + 0.3
    joined = httpx.get(labelstudio.url + both["data"]["audio"], timeout=30,
                       headers={"Authorization": f"Token {labelstudio.token}"}).content
    import io

    import soundfile as sf

    assert sf.info(io.BytesIO(joined)).duration == pytest.approx(spoken[1]["end"], abs=0.05)
    full = ls.sdk.tasks.get(id=tasks[sample_records[1].id]["id"])
    assert len(full.predictions) == 1  # the updated task's pre-fill was replaced, not doubled

    creds = load_credentials(labelstudio.server.data_dir)
    cookies = login_cookies(labelstudio.url, creds["username"], creds["password"])
    weather = tasks[sample_records[0].id]
    out = ARTIFACTS / "review-task-audio.png"
    page = screenshot(f"{labelstudio.url}/projects/{first['project_id']}/data?task={weather['id']}", cookies, out,
                      wait_for="Final answer (edit to fix)", probe=(
                          "JSON.stringify(Array.from(document.querySelectorAll('[class^=time--]'))"
                          ".filter(e => e.offsetParent !== null).map(e => e.innerText))"))
    assert out.stat().st_size > 20_000
    assert 'get_weather(city="Oslo, Norway")' in page["text"]          # the tool call
    assert "What's the weather like in Oslo right now?" in page["text"]  # the conversation
    assert "Final answer (edit to fix)" in page["text"] and "accept" in page["text"]
    assert page["audio"] + page["canvas"] > 0                           # the audio player (waveform)
    assert len(json.loads(page["probe"])) == 1   # a time only on the spoken line, none on text-only lines


def test_new_audio_after_annotation_supersedes_the_task(labelstudio, tmp_path, sample_records):
    """Annotations made on the old audio do not count for the new audio: a new task replaces the
    annotated one, which is marked superseded; its annotations are kept as stale."""
    from toolforge.review import pull, push
    from toolforge.store import Selection
    from toolforge.validate import validate_store

    db = tmp_path / "store.duckdb"
    weather = sample_records[0]
    with open_store(db) as st:
        st.upsert_records(sample_records[:2], source="test")
        validate_store(st)
        speak_user_turns(st, sample_records[:2])
    ls = connect(labelstudio.url, labelstudio.token)
    project = f"stale-{uuid.uuid4().hex[:6]}"
    sel = Selection(status="any")
    with open_store(db) as st:
        first = push(st, ls, project_title=project, files_root=labelstudio.files_root, selection=sel)
    old = {t["meta"]["record_id"]: t["id"] for t in ls.export(first.project_id, all_tasks=True)}
    me = ls.sdk.users.whoami().id
    ls.sdk.annotations.create(id=old[weather.id], completed_by=me, result=[
        {"from_name": "verdict", "to_name": "dialogue", "type": "choices", "value": {"choices": ["accept"]}}])
    with open_store(db) as st:
        pull(st, ls, project_title=project)
        assert st.con.execute("SELECT verdict FROM review_verdicts WHERE record_id = ?", [weather.id]).fetchone()
        speak_user_turns(st, sample_records[:2], speed=120)    # new audio for both records
        again = push(st, ls, project_title=project, files_root=labelstudio.files_root, selection=sel)
    # the annotated task is replaced and marked; the unannotated one is updated in place
    assert again.imported == 1 and again.superseded == 1 and again.updated == 1
    tasks = ls.export(first.project_id, all_tasks=True)
    assert len(tasks) == 3
    marked = ls.sdk.tasks.get(id=str(old[weather.id]))
    assert marked.data["review_state"] == "superseded" and marked.data["title"].startswith("[superseded")
    assert marked.is_labeled is True   # closed: the labeling queue skips it
    new_id = next(t["id"] for t in tasks if t["meta"]["record_id"] == weather.id and t["id"] != old[weather.id])
    assert str(new_id) in marked.data["review_feedback"]
    with open_store(db) as st:
        res = pull(st, ls, project_title=project)
        assert res.stale_annotations == 1
        assert st.con.execute("SELECT count(*) FROM review_verdicts WHERE record_id = ?", [weather.id]).fetchone()[0] == 0
        row = st.con.execute("SELECT status, problem FROM review_annotations WHERE record_id = ?", [weather.id]).fetchone()
        assert row[0] == "stale" and "older version" in row[1]
    ls.sdk.annotations.create(id=new_id, completed_by=me, result=[
        {"from_name": "verdict", "to_name": "dialogue", "type": "choices", "value": {"choices": ["reject"]}}])
    with open_store(db) as st:
        pull(st, ls, project_title=project)
        assert st.con.execute("SELECT verdict, n_annotations FROM review_verdicts WHERE record_id = ?",
                              [weather.id]).fetchone() == ("reject", 1)
