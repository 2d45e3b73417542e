"""`toolforge run RECIPE`: the whole pipeline from a recipe, resumable stage by stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from toolforge.cli.choices import Stage
from toolforge.cli.common import JsonOption, info, print_json


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)


def run_cmd(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML (datasets/NAME.yaml).")],
    db: Annotated[Optional[Path], typer.Option("--db", envvar="TOOLFORGE_DB",
                                               help="Store file (default: datasets/out/NAME.duckdb next to the recipe).")] = None,
    from_stage: Annotated[Optional[Stage], typer.Option("--from", help="First stage to run.")] = None,
    until_stage: Annotated[Optional[Stage], typer.Option("--until", help="Last stage to run.")] = None,
    continue_review: Annotated[bool, typer.Option("--continue", help="Pull review results and go on after review.")] = False,
    scale: Annotated[Optional[float], typer.Option(help="Multiply every generation count by this (e.g. 0.01).")] = None,
    count: Annotated[Optional[int], typer.Option(help="Generate this many records in all, split by the mixture.")] = None,
    teacher: Annotated[Optional[str], typer.Option(help="Teacher spec overriding the recipe's (e.g. fake:).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Export folder (default: from the recipe, else next to the store).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Run the selected stages even if they are done.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Build a dataset end to end: generate, validate, dedup, tts, review, export, push.

    Every stage is skipped when it is already done for this recipe and store;
    after a crash, run the same command again to resume.
    """
    import logging

    from toolforge.errors import UsageError
    from toolforge.pipeline import PipelineOptions, run_pipeline
    from toolforge.pipeline.recipe_io import load_pipeline_recipe
    from toolforge.pipeline.runner import default_store_path

    try:
        options = PipelineOptions(from_stage=from_stage, until_stage=until_stage, continue_review=continue_review,
                                  scale=scale, count=count, teacher=teacher, out_dir=out, force=force)
    except Exception as exc:  # pydantic ValidationError: one line
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            err = exc.errors()[0]
            raise UsageError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}") from None
        raise
    from toolforge.pipeline.runner import selected_stages

    if scale is not None and count is not None:
        raise UsageError("give --scale or --count, not both")

    selected_stages(options)  # bad --from/--until: fail before reading anything
    loaded = load_pipeline_recipe(recipe)
    from toolforge.cli.display import verbosity

    if verbosity() == 0:  # the stages report as they go (info logs) unless -q; -v/-vv say more
        logging.getLogger().setLevel(logging.INFO)
    store_path = db or default_store_path(recipe)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    if options.out_dir is None and loaded.export_out is not None:
        options.out_dir = loaded.export_out
    result = run_pipeline(store_path, loaded.recipe, recipe_name=loaded.name, options=options, recipe_path=recipe)
    if as_json:
        print_json(result.to_dict())
    else:
        render(result)
    if result.waiting_for_review:
        info("review: waiting for annotators; run again with --continue when they are done")


def render(result) -> None:  # type: ignore[no-untyped-def]
    from toolforge.cli.display import Column, print_table

    print_table(["stage", "status", Column("seconds", justify="right")],
                [[o.stage, o.status, f"{o.seconds:.1f}" if o.status in ("ran", "waiting") else ""]
                 for o in result.outcomes], title=f"{result.recipe}: stages")
    print_table(["step", Column("records", justify="right")], list(result.funnel.items()),
                title=f"{result.recipe}: funnel ({result.db})")
