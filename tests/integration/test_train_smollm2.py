"""The train-evaluate loop on a real small model, from one recipe (issue #18's smoke run), on CPU.

`datasets/train-smoke.yaml`: `toolforge run` makes schema-driven records over the camera
catalog, validates them and fixes a train/test split; `toolforge experiment` scores the
packaged SmolLM2-135M-Instruct (GGUF, dequantised by transformers once) on the held-out
split, trains a LoRA adapter on the rest and scores the student the same way. SmolLM2's
own template shows no tools, so the recipe uses toolforge's `chatml_tools` template for both.
The check is the direction training pushes, measured: the base model writes no call in the
trained form here; the student does, and finds more of the expected calls. The README's
Train and compare section shows the table this run prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

RECIPE = Path(__file__).resolve().parents[2] / "datasets" / "train-smoke.yaml"


@pytest.mark.timeout(5400)  # about 8 minutes on a quiet 2-core machine; much longer on a busy one
def test_smollm2_student_learns_to_call_tools_from_the_recipe(run_cli, tmp_path):
    run_cli("run", RECIPE, "--db", "smoke.duckdb", check=True, timeout=900)
    proc = run_cli("experiment", RECIPE, "--db", "smoke.duckdb", "-o", "xp", check=True, timeout=4800)
    print(proc.stdout)  # the comparison table (pytest -s shows it)
    rows = {r["variant"]: r for r in json.loads((tmp_path / "xp" / "experiment.json").read_text())["rows"]}
    base, student = rows["base"], rows["student"]
    assert base["turns"] == student["turns"] > 0 and student["records"] > 0

    train = json.loads((tmp_path / "xp" / "student" / "toolforge_train.json").read_text())
    assert train["encoding"]["masking"] == "generation_markers" and train["steps"] == 24
    log = [json.loads(line) for line in (tmp_path / "xp" / "student" / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if "loss" in r]
    assert sum(losses[-6:]) / 6 < sum(losses[:6]) / 6, losses          # the training loss falls
    assert (tmp_path / "xp" / "student" / "adapter" / "adapter_config.json").is_file()

    def counts(variant: str) -> dict:
        return json.loads((tmp_path / "xp" / variant / "eval" / "results.json").read_text())["overall"]["counts"]

    # the direction training pushes: the student writes calls the parser reads, and finds more expected calls
    assert counts("student")["outputs_with_calls"] > counts("base")["outputs_with_calls"]
    assert (student["recall"] or 0) > (base["recall"] or 0)
