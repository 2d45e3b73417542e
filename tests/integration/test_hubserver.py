"""The Hub-API test double itself: unknown routes are recorded (and fail the test through the fixture)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

CLIENT = """
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
try:
    HfApi().whoami()
except HfHubHTTPError as exc:
    print("status", exc.response.status_code)
"""


def test_unimplemented_route_is_recorded(hub_server, tmp_path):
    env = {**os.environ, **hub_server.env(xet=False)}
    proc = subprocess.run([sys.executable, "-c", CLIENT], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)
    assert "status 501" in proc.stdout, proc.stderr[-2000:]
    unknown = hub_server.unknown()
    assert any(u.startswith("GET /api/whoami-v2") for u in unknown), unknown
    hub_server.post("forget-unknown", {})  # this test expected it; others fail on it in the fixture's teardown
    assert hub_server.unknown() == []


def test_writes_need_the_token(hub_server, tmp_path):
    env = {**os.environ, **hub_server.env(xet=False), "HF_TOKEN": "hf_wrong"}
    code = ("from huggingface_hub import HfApi\n"
            "try:\n    HfApi().create_repo('me/x', repo_type='dataset')\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc.response.status_code)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)
    assert "401" in proc.stdout, proc.stderr[-2000:]
    assert not [r for r in hub_server.requests() if "/commit/" in r]


def test_push_to_a_branch(run_cli, hub_server, filled_db):
    proc = run_cli("push", "me/branchy", "--revision", "dev", "--status", "any", "--db", filled_db,
                   env=hub_server.env(xet=False))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("/datasets/me/branchy/tree/dev")
    dev, main = hub_server.head("me/branchy", "dev"), hub_server.head("me/branchy", "main")
    assert "data/train-single_tool-00000-of-00001.parquet" in dev["files"] and "README.md" in dev["files"]
    assert list(main["files"]) == [".gitattributes"]  # main is untouched
