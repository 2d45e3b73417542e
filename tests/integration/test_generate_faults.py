"""Fault injection: 429 (Retry-After), 500, timeouts, truncated JSON, wrong tool names; exactly N records."""

from __future__ import annotations

import json

import httpx
import pytest

from toolforge.store import open_store
from toolforge.validate import errors_only, validate_record

pytestmark = pytest.mark.integration


def test_faults_are_retried_or_reasked_and_each_is_stored(fault_server, run_cli, tmp_db):
    n = 6
    proc = run_cli("generate", "-s", "single_tool", "-s", "multi_tool_sequential", "-s", "error_recovery",
                   "-s", "no_tool_needed", "--n", str(n), "--teacher", f"openai:stub@{fault_server}",
                   "--teacher-option", "timeout=1.0", "--concurrency", "8", "--max-attempts", "4", "--seed", "3",
                   "--mode", "oneshot",  # the stub serves one-shot plans (its wrong-tool fault edits their turns)
                   "--db", tmp_db, "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["stored"] == {"single_tool": n, "multi_tool_sequential": n, "error_recovery": n,
                                 "no_tool_needed": n}
    injected = httpx.get(f"{fault_server}/stats").json()
    for fault in ("http_429", "http_500", "timeout", "truncated", "wrong_tool"):
        assert injected.get(fault, 0) >= 1, injected
    with open_store(tmp_db, read_only=True) as store:
        reasons = dict(store.con.execute(
            "SELECT reason, count(*) FROM generation_attempts WHERE outcome IN ('rejected', 'transport') "
            "GROUP BY reason").fetchall())
        recs = list(store.iter_records())
        ids = [r[0] for r in store.con.execute("SELECT id FROM records").fetchall()]
    assert reasons.get("http_429", 0) == injected["http_429"]
    assert reasons.get("http_500", 0) == injected["http_500"]
    assert reasons.get("timeout", 0) == injected["timeout"]
    assert reasons.get("json_invalid", 0) == injected["truncated"]
    assert reasons.get("unknown_tool", 0) == injected["wrong_tool"], reasons
    assert len(recs) == 4 * n and len(set(ids)) == len(ids)
    assert all(not errors_only(validate_record(r)) for r in recs)
