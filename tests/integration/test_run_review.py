"""`toolforge run` with a review section, against a real Label Studio server: the run pushes
and stops; annotators work; `--continue` pulls the verdicts and goes on to export, which
then holds exactly the accepted records."""

from __future__ import annotations

import json
import uuid

import pytest

from toolforge.review import connect

pytestmark = pytest.mark.integration


def _choice(value: str) -> dict:
    return {"from_name": "verdict", "to_name": "dialogue", "type": "choices", "value": {"choices": [value]}}


def test_run_stops_for_review_and_continues(run_cli, labelstudio, tmp_path):
    project = f"run-{uuid.uuid4().hex[:6]}"
    recipe = tmp_path / "reviewed.yaml"
    recipe.write_text(f"""\
name: reviewed
generate:
  scenarios: {{single_tool: 3, no_tool_needed: 2, multi_tool_parallel: 1}}
  catalogs: [smol-tools]
  teacher: "fake:"
  seed: 2
review:
  url: {labelstudio.url}
  project: {project}
export:
  formats: [openai]
""")
    db = tmp_path / "reviewed.duckdb"
    env = labelstudio.env

    first = run_cli("run", recipe, "--db", db, "--json", env=env)
    assert first.returncode == 0, first.stderr
    res = json.loads(first.stdout)
    status = {s["stage"]: s["status"] for s in res["stages"]}
    assert status["review"] == "waiting" and status["export"] == "blocked"
    assert res["waiting_for_review"] and "--continue" in first.stderr
    pushed = next(s for s in res["stages"] if s["stage"] == "review")["counts"]["pushed"]
    assert pushed == res["funnel"]["unique"] > 0

    # Running again without --continue neither pushes again nor exports.
    again = json.loads(run_cli("run", recipe, "--db", db, "--json", env=env, check=True).stdout)
    assert {s["stage"]: s["status"] for s in again["stages"]}["review"] == "waiting"

    ls = connect(labelstudio.url, labelstudio.token)
    proj = next(p for p in ls.sdk.projects.list() if p.title == project)
    tasks = ls.export(proj.id, all_tasks=True)
    assert len(tasks) == pushed
    me_id = ls.sdk.users.whoami().id
    verdicts = ["reject"] + ["accept"] * (len(tasks) - 1)
    for task, verdict in zip(tasks, verdicts, strict=True):
        ls.sdk.annotations.create(id=task["id"], completed_by=me_id, result=[_choice(verdict)])

    done = run_cli("run", recipe, "--db", db, "--continue", "--json", env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    status = {s["stage"]: s["status"] for s in out["stages"]}
    assert status["review"] == "ran" and status["export"] == "ran" and not out["waiting_for_review"]
    assert out["funnel"]["accepted"] == len(tasks) - 1
    assert out["funnel"]["exported"] == len(tasks) - 1
    lines = (tmp_path / "reviewed-export" / "openai" / "train.jsonl").read_text().splitlines()
    assert len(lines) == len(tasks) - 1
