"""Real generation with the packaged SmolLM2: through a llama.cpp server (openai: backend) and in-process.

Both generate one record per scenario; every stored record passes the validators
(the runner only stores records that do, and this re-checks them from the store).
The tiny camera catalog keeps prompts and replies short on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from toolforge.backends import load_teacher
from toolforge.record import SCENARIOS
from toolforge.store import open_store
from toolforge.validate import errors_only, validate_record

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# These tests are about the transport and the grammar (a real llama.cpp server, llama.cpp in-process):
# the packaged 135M model writes records of the right form but rarely of the right meaning (it copies
# the few-shot examples), so for it the accept step checks form only (the default for this model,
# said here with --form-only); the meaning checks are tested on their own corpora.
COMMON = ["--catalog", "camera", "--n", "1", "--seed", "1", "--max-attempts", "4", "--max-tokens", "400",
          "--temperature", "0.6", "--form-only", "--json"]


def check_store(db, summary, teacher_prefix):
    assert summary["status"] == "done"
    assert summary["stored"] == dict.fromkeys(SCENARIOS, 1)
    with open_store(db, read_only=True) as store:
        recs = list(store.iter_records())
        reasons = store.con.execute("SELECT outcome, count(*) FROM generation_attempts GROUP BY 1").fetchall()
    assert len(recs) == len(SCENARIOS) and {r.scenario for r in recs} == set(SCENARIOS)
    for r in recs:
        assert not errors_only(validate_record(r, check_grounding=False, check_provenance=False)), r.to_dict()
        assert r.meta["teacher"].startswith(teacher_prefix)
    assert dict(reasons)["accepted"] == len(SCENARIOS)


def test_llama_server_speaks_json_object_dialect(llama_server):
    t = load_teacher(f"openai:smollm2@{llama_server}")

    async def go():
        try:
            await t.check()
        finally:
            await t.aclose()

    asyncio.run(go())
    assert t.dialect == "json_object"


def test_generate_every_scenario_through_llama_server(llama_server, run_cli, tmp_db):
    proc = run_cli("generate", "--teacher", f"openai:smollm2@{llama_server}", "--concurrency", "2",
                   "--db", tmp_db, *COMMON, timeout=900)
    assert proc.returncode == 0, proc.stderr
    check_store(tmp_db, json.loads(proc.stdout), "openai:smollm2")


def test_generate_every_scenario_in_process(smollm2_path, run_cli, tmp_db):
    proc = run_cli("generate", "--teacher", f"llamacpp:{smollm2_path}", "--teacher-option", "n_threads=1",
                   "--db", tmp_db, *COMMON, timeout=900)
    assert proc.returncode == 0, proc.stderr
    check_store(tmp_db, json.loads(proc.stdout), "llamacpp:")
