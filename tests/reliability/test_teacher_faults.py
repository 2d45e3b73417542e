"""Teacher faults: a loopback OpenAI-compatible server answers 30% of requests with 429
(Retry-After), 500, a connection reset, a timeout, a truncated body or a non-JSON body.
The run completes with exactly the target counts, and the transport failures stored per
reason match what the server injected, one for one."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest

from tests.reliability.teacher_server import FAULTS, FaultyTeacher

TARGETS = {"single_tool": 6, "multi_tool_parallel": 4, "multi_tool_sequential": 4, "no_tool_needed": 4,
           "error_recovery": 4, "reasoning_heavy": 4, "complex_multi_step": 4}


@pytest.fixture
def faulty_teacher():
    server = FaultyTeacher(rate=0.3, seed=11, timeout_sleep=2.0).start()
    yield server
    server.stop()


def test_run_completes_and_counts_every_injected_fault(run_cli, tmp_path, faulty_teacher):
    recipe = tmp_path / "faults.yaml"
    recipe.write_text(f"""\
name: faults
generate:
  scenarios: {json.dumps(TARGETS)}
  catalogs: [smol-tools]
  teacher: "openai:m@{faulty_teacher.url}"
  teacher_options: {{timeout: 1.0}}
  concurrency: 4
  seed: 5
export:
  formats: [openai]
""")
    db = tmp_path / "faults.duckdb"
    proc = run_cli("run", recipe, "--db", db, "--until", "export", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["funnel"]["generated"] == sum(TARGETS.values())

    con = duckdb.connect(str(db), read_only=True)
    try:
        counts = dict(con.execute("SELECT scenario, count(*) FROM records GROUP BY 1").fetchall())
        stored = Counter(dict(con.execute(
            "SELECT reason, count(*) FROM generation_attempts WHERE outcome = 'transport' GROUP BY 1").fetchall()))
    finally:
        con.close()
    assert counts == TARGETS
    injected = faulty_teacher.injected
    total = faulty_teacher.requests
    print(f"requests {total}, injected {dict(injected)}, stored {dict(stored)}")
    assert set(injected) == set(FAULTS), f"every fault kind must be injected at least once: {injected}"
    assert 0.15 < sum(injected.values()) / total < 0.45
    assert stored == faulty_teacher.expected_reasons()
