"""`toolforge review serve`: Label Studio from .venv-labelstudio on 127.0.0.1, generated credentials,
and push/pull finding the token without LABEL_STUDIO_API_KEY."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.fixtures.labelstudio import initialised_data_dir
from toolforge.review.server import free_port
from toolforge.store import open_store

pytestmark = pytest.mark.integration


def test_serve_then_push_without_a_token_variable(run_cli, tmp_path, sample_records, monkeypatch):
    from toolforge.validate import validate_store

    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    db = tmp_path / "store.duckdb"
    with open_store(db) as st:
        st.upsert_records(sample_records, source="test")
        validate_store(st)
    data = tmp_path / ".labelstudio"
    shutil.copytree(initialised_data_dir(), data)  # the migrated cache; serve keeps its credentials
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO")}
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(os.getcwd()))
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed in finally
    hook_port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "toolforge", "review", "serve", "--db", str(db), "--port",
                             str(port), "--data-dir", str(data), "--feedback-port", str(hook_port)],
                            env=env, cwd=tmp_path, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve did not become healthy"
            time.sleep(0.5)
        banner = (tmp_path / "serve.log").read_text()
        creds = json.loads((data / "toolforge-credentials.json").read_text())
        assert (data / "toolforge-credentials.json").stat().st_mode & 0o077 == 0
        assert creds["token"] not in banner and creds["password"] not in banner
        assert f"local files {tmp_path}" in banner  # document root: the store's folder
        deadline = time.monotonic() + 60   # the feedback endpoint starts once Label Studio is healthy
        while not (data / "toolforge-feedback.json").is_file():
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-2000:]
            time.sleep(0.3)
        assert (data / "toolforge-feedback.json").stat().st_mode & 0o077 == 0
        res = run_cli("review", "push", "--db", db, "--url", url, "--status", "any", "--json", env=env, check=True)
        pushed = json.loads(res.stdout)
        assert pushed["imported"] == len(sample_records)
        assert f"feedback endpoint http://127.0.0.1:{hook_port}/webhook registered" in res.stderr
        # an annotation submitted now is checked by the endpoint `serve` runs, through a real webhook
        from toolforge.review import connect

        ls = connect(url, creds["token"])
        task = ls.export(pushed["project_id"], all_tasks=True)[0]
        ls.sdk.annotations.create(id=task["id"], completed_by=ls.sdk.users.whoami().id, result=[
            {"from_name": "verdict", "to_name": "dialogue", "type": "choices", "value": {"choices": ["reject"]}}])
        deadline = time.monotonic() + 15
        while ls.sdk.tasks.get(id=str(task["id"])).data.get("review_state") != "ok":
            assert time.monotonic() < deadline, "the feedback endpoint did not write to the task"
            time.sleep(0.3)
        res = run_cli("review", "pull", "--db", db, "--url", url, "--json", env=env, check=True)
        assert json.loads(res.stdout)["annotations"] == 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # serve and the Label Studio it started (its own session)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def test_data_dir_keeps_itself_out_of_git(tmp_path):
    from toolforge.review.server import make_credentials

    creds = make_credentials(tmp_path / ".labelstudio")
    assert (tmp_path / ".labelstudio" / ".gitignore").read_text().strip().endswith("*")
    assert make_credentials(tmp_path / ".labelstudio") == creds  # generated once, then reused
    assert len(creds["token"]) == 40 and creds["password"]
