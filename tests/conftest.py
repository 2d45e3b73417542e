"""Shared fixtures. Area-specific fixtures (servers, models) live in tests/fixtures/<area>.py
and are loaded as plugins below; each area owns its own module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EXAMPLES = ROOT / "examples"

pytest_plugins = [
    "tests.fixtures.llama",
    "tests.fixtures.core",
    "tests.fixtures.labelstudio",
    "tests.fixtures.hub",
]


def toolforge_cmd() -> list[str]:
    return [sys.executable, "-m", "toolforge"]


@pytest.fixture
def run_cli(tmp_path):
    """Run the real CLI in a subprocess: run_cli("list", "--db", db) -> CompletedProcess."""

    def _run(*args: str, input: str | bytes | None = None, env: dict | None = None, cwd: Path | None = None,
             timeout: float = 300, check: bool = False) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        full_env.setdefault("PYTHONPATH", str(ROOT))
        # progress lines (every 5 s when stderr is not a terminal) would make stderr depend on the
        # machine's speed; tests that check them set their own interval
        full_env.setdefault("TOOLFORGE_PROGRESS_INTERVAL", "3600")
        proc = subprocess.run(
            [*toolforge_cmd(), *map(str, args)], input=input, capture_output=True, env=full_env,
            cwd=cwd or tmp_path, timeout=timeout, text=not isinstance(input, bytes),
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"toolforge {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    return _run


@pytest.fixture
def sample_path() -> Path:
    return EXAMPLES / "sample.jsonl"


@pytest.fixture
def sample_dicts(sample_path) -> list[dict]:
    return [json.loads(line) for line in sample_path.read_text().splitlines() if line.strip()]


@pytest.fixture
def tmp_db(tmp_path) -> Path:
    return tmp_path / "store.duckdb"
