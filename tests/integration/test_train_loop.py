"""The train-evaluate-regenerate loop through the real CLI, on a tiny random Llama (CPU, seconds):
`toolforge train` on a trl export, `eval --model hf:` on the adapter, `gaps` on the result,
`experiment` over two data variants and the base model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.unit.train.tiny import tiny_model_dir
from toolforge.train.encode import BUILTIN_TEMPLATES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """A store of schema-driven records with a train/test split, its trl export, and a tiny model."""
    import os
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("loop")
    env = {**os.environ, "TOOLFORGE_PROGRESS_INTERVAL": "3600"}

    def cli(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "toolforge", *args], cwd=root, env=env, check=True,
                       capture_output=True, timeout=600)

    cli("generate", "--teacher", "fake:", "--n", "4", "--db", "store.duckdb")
    cli("export", "--db", "store.duckdb", "--format", "trl", "--out", "exp", "--status", "any",
        "--test-fraction", "0.25")
    from datasets import Dataset  # type: ignore[attr-defined]

    rows = Dataset.from_parquet(str(root / "exp" / "train.parquet")).to_list()
    texts = [json.dumps(r, ensure_ascii=False) for r in rows]
    tiny_model_dir(root / "tiny", texts + [BUILTIN_TEMPLATES["chatml_tools"].read_text()],
                   chat_template=BUILTIN_TEMPLATES["chatml_tools"].read_text(), vocab_size=800)
    return root


def test_train_writes_an_adapter_that_loads_and_the_loss_falls(loop, run_cli):
    out = loop / "student"
    proc = run_cli("train", "--data", loop / "exp" / "train.parquet", "--base-model", loop / "tiny", "-o", out,
                   "--max-steps", "10", "--batch-size", "2", "--grad-accum", "1", "--learning-rate", "5e-3",
                   "--max-length", "2048", "--merge", "--json", check=True, timeout=900)
    summary = json.loads(proc.stdout)
    assert summary["steps"] == 10 and summary["encoding"]["masking"] == "generation_markers"
    assert 0 < summary["encoding"]["trained_tokens"] < summary["encoding"]["tokens"]
    assert summary["config"]["lora_r"] == 32 and summary["config"]["lora_alpha"] == 64   # the card's recipe
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if "loss" in r]
    assert len(losses) == 10 and all("mean_token_accuracy" in r for r in log if "loss" in r)
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3, losses
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert "<tool_call>" in (out / "adapter" / "chat_template.jinja").read_text()  # trained template kept

    from toolforge.train.models import load_model, resolve_model

    ref = resolve_model(str(out))
    assert ref.adapter == out / "adapter" and Path(ref.base) == loop / "tiny"
    model = load_model(ref)
    assert type(model).__name__ == "PeftModelForCausalLM"
    merged = load_model(resolve_model(str(out / "merged")))   # --merge: a plain model folder
    assert type(merged).__name__ == "LlamaForCausalLM"


def test_the_student_is_scored_with_hf_and_gaps_writes_a_recipe_from_it(loop, run_cli):
    student = loop / "student"
    if not (student / "adapter").is_dir():
        pytest.skip("needs the adapter of the training test")  # pragma: no cover - ordering within the module
    ev = loop / "ev"
    run_cli("eval", "--references", loop / "exp" / "test.parquet", "--model", f"hf:{student}", "--family", "hermes",
            "--out", ev, "--max-tokens", "12", "--limit", "6", check=True, timeout=900)
    result = json.loads((ev / "results.json").read_text())
    assert result["overall"]["counts"]["turns"] > 0 and "by_tool" in result
    preds = [json.loads(line) for line in (ev / "predictions.jsonl").read_text().splitlines()]
    assert preds and all("output" in p or "tool_calls" in p for p in preds)

    # an older result planted beside it where every scenario scored 1.0: gaps weighs the falls
    older = json.loads(json.dumps(result))
    for g in older["by_scenario"].values():
        g["f1"] = 1.0
    (loop / "older.json").write_text(json.dumps(older))
    proc = run_cli("gaps", loop / "older.json", ev, "--n", "50", "-o", loop / "targeted.yaml")
    from toolforge.errors import InputError
    from toolforge.evaluate.gaps import gap_recipe

    try:
        expected = gap_recipe([older, result], total=50)["recipe"]["generate"]["scenarios"]
    except InputError as exc:  # the student is perfect everywhere: the CLI says so too
        assert proc.returncode == 2 and str(exc) in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    recipe = yaml.safe_load((loop / "targeted.yaml").read_text())
    assert recipe["generate"]["scenarios"] == expected and sum(expected.values()) == 50
    from toolforge.recipe import load_recipe

    assert load_recipe(loop / "targeted.yaml").generate.targets() == expected   # `toolforge run` can take it


def test_experiment_trains_and_scores_each_variant_and_the_base_model(loop, run_cli):
    recipe = loop / "exp.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "ablation", "generate": {"scenarios": {"single_tool": 1}},
        "train": {"base_model": str(loop / "tiny"), "max_steps": 2, "batch_size": 2, "grad_accum": 1,
                  "max_length": 1024},
        "experiment": {"held_out": "test", "family": "hermes", "baseline": True,
                       "eval": {"limit": 3, "max_tokens": 8},
                       "variants": [{"name": "all", "status": "any"},
                                    {"name": "single", "status": "any", "scenarios": ["single_tool"]}]},
    }))
    proc = run_cli("experiment", recipe, "--db", loop / "store.duckdb", "-o", loop / "xp", check=True, timeout=1200)
    table = proc.stdout
    for name in ("base", "all", "single"):
        assert f"| {name} |" in table
    data = json.loads((loop / "xp" / "experiment.json").read_text())
    rows = {r["variant"]: r for r in data["rows"]}
    assert rows["all"]["records"] > rows["single"]["records"] > 0 and rows["base"]["records"] == 0
    assert all(r["turns"] == rows["base"]["turns"] for r in rows.values())   # same held-out turns for all
    assert "<svg" in (loop / "xp" / "experiment.html").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (("train", "-o", "x", "--data", "missing.parquet"), "file not found: missing.parquet"),
    (("train", "-o", "x"), "give exactly one of --data PATH and --db STORE"),
    (("gaps", "nope.json"), "file not found"),
])
def test_bad_input_is_one_line_and_nothing_is_written(run_cli, tmp_path, args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()
