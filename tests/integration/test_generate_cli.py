"""`toolforge generate` end to end through the CLI: fake teacher, recipes, bad input leaves the store unchanged."""

from __future__ import annotations

import json

import pytest

from tests.helpers import store_digest
from toolforge.store import open_store

pytestmark = pytest.mark.integration


def test_generate_with_the_fake_teacher_then_list(run_cli, tmp_db):
    proc = run_cli("generate", "-s", "single_tool", "-s", "complex_multi_step", "--n", "3", "--teacher", "fake:",
                   "--seed", "4", "--db", tmp_db, "--json", check=True)
    summary = json.loads(proc.stdout)
    assert summary["stored"] == {"single_tool": 3, "complex_multi_step": 3} and summary["status"] == "done"
    listed = json.loads(run_cli("list", "--db", tmp_db, "--json", check=True).stdout)
    assert len(listed) == 6 and {r["scenario"] for r in listed} == {"single_tool", "complex_multi_step"}


def test_recipe_mix_scaled_by_n(run_cli, tmp_db):
    proc = run_cli("generate", "--recipe", "smol-tools", "--n", "14", "--teacher", "fake:", "--db", tmp_db, "--json",
                   check=True)
    stored = json.loads(proc.stdout)["stored"]
    assert sum(stored.values()) == 14 and stored["single_tool"] == 4


def test_dry_run_prints_records_and_stores_nothing(run_cli, tmp_db):
    proc = run_cli("generate", "--dry-run", "-s", "error_recovery", "--n", "2", "--db", tmp_db, check=True)
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(lines) == 2 and all(x["scenario"] == "error_recovery" for x in lines)
    assert not tmp_db.exists()


@pytest.mark.parametrize("args, env, needle", [
    (["-s", "bogus"], {}, "'bogus' is not one of 'single_tool'"),
    (["--teacher", "nope:x"], {}, "unknown teacher backend"),
    (["--teacher", "openai:m@http://127.0.0.1:9/v1"], {}, "cannot reach teacher server"),
    (["--teacher", "openai:gpt-4o-mini"], {"OPENAI_API_KEY": ""}, "OPENAI_API_KEY"),
    (["--teacher", "fake:", "--catalog", "does/not/exist.json"], {}, "catalog file not found"),
    (["--teacher", "fake:", "--resume", "generate-000000000000"], {}, "no generation run"),
])
def test_bad_input_one_line_error_exit_2_store_unchanged(run_cli, filled_db, args, env, needle):
    before = store_digest(filled_db)
    proc = run_cli("generate", "--n", "1", "--db", filled_db, *args, env=env)
    assert proc.returncode == 2, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("error: ") and needle in first, proc.stderr
    assert "Traceback" not in proc.stderr
    assert store_digest(filled_db) == before


def test_bad_input_does_not_create_a_store(run_cli, tmp_db):
    proc = run_cli("generate", "--n", "1", "--teacher", "openai:m@http://127.0.0.1:9/v1", "--db", tmp_db)
    assert proc.returncode == 2 and not tmp_db.exists()


def test_teachers_lists_availability(run_cli):
    rows = json.loads(run_cli("teachers", "--json", check=True).stdout)
    by = {r["prefix"]: r for r in rows}
    assert by["fake"]["available"] and by["openai"]["available"] and by["llamacpp"]["available"]
    if not by["vllm"]["available"]:
        assert "toolforge[vllm]" in by["vllm"]["why"]


def test_generated_store_validates_clean(run_cli, tmp_db):
    run_cli("generate", "--n", "2", "--teacher", "fake:", "--db", tmp_db, check=True)
    from toolforge.validate import errors_only, validate_record

    with open_store(tmp_db, read_only=True) as store:
        recs = list(store.iter_records())
    assert len(recs) == 14
    assert all(not errors_only(validate_record(r)) for r in recs)
