"""Stepwise generation with the packaged SmolLM2 in-process: results come from the environment and are stored
with the attempt; the stored record's tool messages are exactly those results."""

from __future__ import annotations

import json

import duckdb
import pytest

from toolforge.catalog import resolve_catalog_path
from toolforge.store import open_store
from toolforge.validate import errors_only, validate_record

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_stepwise_with_smollm2_stores_environment_results_with_the_attempts(smollm2_path, run_cli, tmp_path):
    raw = json.loads(resolve_catalog_path("smol-tools").read_text())["tools"]
    cat = tmp_path / "cw.json"
    cat.write_text(json.dumps({"name": "cw", "tools": [t for t in raw if t["function"]["name"] in ("calculate", "get_weather")]}))
    db = tmp_path / "sw.duckdb"
    proc = run_cli("generate", "--teacher", f"llamacpp:{smollm2_path}", "--teacher-option", "n_threads=1", "--mode", "stepwise",
                   "--meaning-checks",  # on for this model too: the stored record must pass every check
                   "--catalog", str(cat), "-s", "single_tool", "--n", "1", "--seed", "2",
                   "--max-attempts", "8", "--max-tokens", "300", "--temperature", "0.6", "--json", "--db", str(db),
                   timeout=900)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["stored"] == {"single_tool": 1}, summary
    with open_store(db, read_only=True) as store:
        recs = list(store.iter_records())
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT scenario, job, attempt, output FROM generation_attempts WHERE outcome = 'step' "
                           "AND reason LIKE 'result:%' ORDER BY created_at").fetchall()
        accepted = con.execute("SELECT scenario, job, attempt FROM generation_attempts WHERE outcome = 'accepted'").fetchall()
    finally:
        con.close()
    for rec in recs:
        assert rec.meta["mode"] == "stepwise" and not errors_only(validate_record(rec))
        job, attempt = next((j, a) for sc, j, a in accepted if sc == rec.scenario)
        stored = [json.loads(out) for sc, j, a, out in rows if (sc, j, a) == (rec.scenario, job, attempt)]
        tool_msgs = [m for m in rec.messages if m.role == "tool"]
        assert len(stored) == len(tool_msgs) >= 1
        for s, m in zip(stored, tool_msgs, strict=True):
            assert s["source"] in ("safe", "simulated", "world")
            assert json.loads(m.content) == s["result"] and m.name == s["call"]["name"]
            assert not s["error"]  # a failed call is not a single_tool record
            if m.name == "calculate" and s["source"] == "safe":  # run for real, never written by the teacher
                from toolforge.validate.safe_tools import calculate

                assert s["result"] == calculate(**s["call"]["arguments"])
        assert rec.meta["result_sources"] == [s["source"] for s in stored]
