"""What an annotator sees in a task, in headless Chromium against the real server: the instructions,
the scenario's checklist, the typed tools panel, the labelled rating, and only the call slots in use.
The screenshot is saved to artifacts/review-task-guidance.png; the copy the README shows,
docs/review-task-guidance.png, is refreshed with TOOLFORGE_UPDATE_SCREENSHOTS=1 (so a test run does
not dirty the checkout)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from tests.integration.review_browser import login_cookies, screenshot
from toolforge.review import connect, push
from toolforge.review.server import load_credentials
from toolforge.store import Selection, open_store

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
DOCS = Path(__file__).resolve().parents[2] / "docs"

VISIBLE_BOXES = ("JSON.stringify({slots: [1, 2, 3, 4, 5, 6].map(i => getComputedStyle("
                 "document.querySelector('.tf-slot-' + i)).display), "
                 "times: Array.from(document.querySelectorAll('[class^=time--]')).filter(e => e.offsetParent !== null)"
                 ".map(e => e.innerText)})")


def test_task_shows_instructions_checklist_and_typed_tools(labelstudio, tmp_path, sample_records):
    from toolforge.validate import validate_store

    db = tmp_path / "store.duckdb"
    with open_store(db) as st:
        st.upsert_records(sample_records, source="test")
        validate_store(st)
        res = push(st, connect(labelstudio.url, labelstudio.token), project_title=f"guide-{uuid.uuid4().hex[:6]}",
                   selection=Selection(status="any"))
    ls = connect(labelstudio.url, labelstudio.token)
    proj = ls.get_project(res.project_id)
    assert proj.show_instruction and "checklist" in (proj.expert_instruction or "")
    weather = sample_records[0]
    task = next(t for t in ls.export(res.project_id, all_tasks=True) if t["meta"]["record_id"] == weather.id)
    assert task["data"]["scenario"] == "single_tool"          # a Data Manager column to sort and filter on
    creds = load_credentials(labelstudio.server.data_dir)
    cookies = login_cookies(labelstudio.url, creds["username"], creds["password"])
    out = ARTIFACTS / "review-task-guidance.png"
    page = screenshot(f"{labelstudio.url}/projects/{res.project_id}/data?task={task['id']}", cookies, out,
                      wait_for="How to review", probe=VISIBLE_BOXES, height=2000)
    text = page["text"]
    assert out.stat().st_size > 20_000
    assert "How to review" in text and "Checklist (single_tool)" in text
    assert "Exactly one call, to the tool the request needs." in text           # the scenario checklist
    assert "Tools offered (type, allowed values, required)" in text
    for cell in ("parameter", "required", "optional", 'one of: "metric", "imperial"', "min 0; max 7"):
        assert cell in text, cell                                                # the typed tools panel
    assert "Rating: overall quality" in text
    assert "Call 1: get_weather" in text and "Add a call (optional)" in text
    probe = json.loads(page["probe"])
    # call 1's slot and the "add a call" slot are shown; the empty slots 3-6 are hidden
    assert probe["slots"] == ["block", "block", "none", "none", "none", "none"], probe
    assert probe["times"] == [], probe                                           # no timestamps on text lines
    readme_copy = DOCS / "review-task-guidance.png"
    if os.environ.get("TOOLFORGE_UPDATE_SCREENSHOTS") or not readme_copy.exists():
        DOCS.mkdir(exist_ok=True)
        readme_copy.write_bytes(out.read_bytes())
