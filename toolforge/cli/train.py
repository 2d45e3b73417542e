"""`toolforge train` (LoRA SFT), `toolforge gaps` (targeted recipe), `toolforge experiment` (ablations)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from toolforge.cli.choices import ThinkMode
from toolforge.cli.common import JsonOption, info, is_stdout_path, print_json


def register(app: typer.Typer) -> None:
    app.command("train", no_args_is_help=True)(train_cmd)
    app.command("gaps", no_args_is_help=True)(gaps_cmd)
    app.command("experiment", no_args_is_help=True)(experiment_cmd)


def _usage(exc: Any) -> Any:
    from toolforge.errors import UsageError

    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    return UsageError(f"{where}: {msg}" if where else msg, hint="see `toolforge train --help`")


def train_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: adapter/, train_log.jsonl, toolforge_train.json (merged/ with --merge).")],
    data: Annotated[Optional[Path], typer.Option("--data", help="Training records: a toolforge export (trl Parquet, openai/sharegpt JSON Lines), records JSON Lines, or an export folder.")] = None,
    db: Annotated[Optional[Path], typer.Option("--db", envvar="TOOLFORGE_DB", help="Train on a split of this store (the latest export's splits).")] = None,
    split: Annotated[str, typer.Option("--split", help="Which split (with --db, or the file name in an export folder).")] = "train",
    base_model: Annotated[Optional[str], typer.Option("--base-model", help="A local model folder, a .gguf file, a packaged name (smollm2), or a Hub id (online).")] = None,
    chat_template: Annotated[Optional[str], typer.Option("--chat-template", help="Template to train with: a .jinja file, a tokenizer folder, or chatml_tools (default: the model's own).")] = None,
    recipe: Annotated[Optional[Path], typer.Option("--recipe", help="A recipe whose train: section sets the defaults.")] = None,
    think: Annotated[Optional[ThinkMode], typer.Option("--think", help="Reasoning: tags (<think> in content), field (reasoning_content), drop.")] = None,
    epochs: Annotated[Optional[float], typer.Option("--epochs", help="Epochs (card: 3).")] = None,
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", min=1, help="Stop after N optimiser steps.")] = None,
    learning_rate: Annotated[Optional[float], typer.Option("--learning-rate", help="Learning rate (card: 1e-4, cosine).")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Per-device batch (card: 4).")] = None,
    grad_accum: Annotated[Optional[int], typer.Option("--grad-accum", min=1, help="Gradient accumulation (card: 8).")] = None,
    max_length: Annotated[Optional[int], typer.Option("--max-length", min=16, help="Tokens per example (card: 4096).")] = None,
    lora_r: Annotated[Optional[int], typer.Option("--lora-r", min=1, help="LoRA rank (card: 32; alpha 64).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Train on the first N records.")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="auto (a GPU when there is one), cpu, cuda, mps.")] = None,
    merge: Annotated[bool, typer.Option("--merge", help="Also write the merged model.")] = False,
    as_json: JsonOption = False,
) -> None:
    """LoRA fine-tuning (TRL SFTTrainer + PEFT) on a toolforge export or store split, with the
    smol-tools card's recipe as the default: loss on the assistant's turns, the model's own template."""
    from pydantic import ValidationError

    from toolforge.train.config import TrainConfig

    base: dict[str, Any] = {}
    if recipe is not None:
        from toolforge.recipe import load_recipe

        r = load_recipe(recipe)
        if r.train is not None:
            base = r.train.model_dump(exclude_unset=True)
    given = {"base_model": base_model, "chat_template": chat_template, "think": think, "epochs": epochs,
             "max_steps": max_steps, "learning_rate": learning_rate, "batch_size": batch_size, "grad_accum": grad_accum,
             "max_length": max_length, "lora_r": lora_r, "limit": limit, "device": device, "merge": merge or None}
    try:
        cfg = TrainConfig(**{**base, **{k: v for k, v in given.items() if v is not None}},
                          data=data, db=db, split=split, out=out)
    except ValidationError as exc:
        raise _usage(exc) from None
    if data is not None and not data.exists():
        from toolforge.errors import InputError

        raise InputError(f"file not found: {data}")
    from toolforge.train.run import train_model

    summary = train_model(cfg)
    info(f"wrote {out / 'adapter'} ({summary['steps']} steps, loss {summary['first_loss']} -> {summary['last_loss']}, "
         f"masking: {summary['encoding']['masking']})")
    if as_json:
        print_json(summary)


def gaps_cmd(
    results: Annotated[list[Path], typer.Argument(help="One or two eval results (results.json or --out folders); with two, the first is the older.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Recipe file to write ('-': stdout).")] = Path("-"),
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="Records to generate in all.")] = 1000,
    metric: Annotated[str, typer.Option("--metric", help="Which metric finds the gaps: f1, precision, recall, exact_match, argument_correctness, json_validity, no_tool_accuracy.")] = "f1",
    catalog: Annotated[Optional[list[str]], typer.Option("--catalog", help="Catalogs for the recipe (default: smol-tools).")] = None,
    teacher: Annotated[Optional[str], typer.Option("--teacher", "-t", help="Teacher spec for the recipe.")] = None,
    name: Annotated[str, typer.Option("--name", help="Recipe name.")] = "targeted",
    seed: Annotated[int, typer.Option("--seed", help="Seed for the recipe.")] = 0,
    db: Annotated[Optional[Path], typer.Option("--db", envvar="TOOLFORGE_DB", help="Store holding eval runs named by id.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a generation recipe aimed at the scenarios and tools where the model misses most
    (weighted by how far each is below the best), from one or two eval results."""
    from toolforge.errors import UsageError
    from toolforge.evaluate import load_result
    from toolforge.evaluate.gaps import GAP_METRICS, gap_recipe, recipe_yaml

    if len(results) > 2:
        raise UsageError("gaps reads one or two eval results")
    if metric not in GAP_METRICS:
        raise UsageError(f"unknown metric {metric!r}", hint=f"choose one of: {', '.join(GAP_METRICS)}")
    loaded = [load_result(p, db) for p in results]
    gap = gap_recipe(loaded, total=n, metric=metric, name=name, catalogs=catalog or ["smol-tools"], teacher=teacher,
                     seed=seed)
    if as_json:
        print_json(gap)
        if is_stdout_path(out):
            return
    text = recipe_yaml(gap)
    if is_stdout_path(out):
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    counts = gap["recipe"]["generate"]["scenarios"]
    info(f"wrote {out}: " + ", ".join(f"{s} {c}" for s, c in counts.items()) + f" (run it: toolforge run {out})")


def experiment_cmd(
    recipe: Annotated[Path, typer.Argument(help="A recipe with train: and experiment: sections.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for each variant's adapter and eval, and the comparison.")],
    db: Annotated[Path, typer.Option("--db", envvar="TOOLFORGE_DB", help="The store whose train/held-out splits the variants use.")] = Path("toolforge.duckdb"),
    as_json: JsonOption = False,
) -> None:
    """Train and score several data variants the same way (the card's ablation), ending in one
    comparison table (experiment.md, experiment.json) and charts (experiment.html)."""
    from toolforge.errors import InputError
    from toolforge.recipe import load_recipe
    from toolforge.train.config import TrainSection
    from toolforge.train.experiment import run_experiment

    r = load_recipe(recipe)
    if r.experiment is None:
        raise InputError(f"{recipe}: no experiment: section", hint="see `toolforge experiment --help` and the README")
    if not db.is_file():
        raise InputError(f"no store at {db}", hint="pass --db with the store the experiment reads")
    result = run_experiment(db, r.experiment, r.train or TrainSection(), out, base=recipe.parent)
    if as_json:
        print_json(result)
        return
    typer.echo((out / "experiment.md").read_text(), nl=False)
    info(f"wrote {out / 'experiment.html'}")
