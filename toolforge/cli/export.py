"""`toolforge export` (training formats, splits) and `toolforge push` (Hub or S3, with a card)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from toolforge.cli.choices import (
    SELECT_SCENARIOS,
    ExportFormat,
    Status,
    ThinkMode,
    ToolMarkup,
    each_one_of,
)
from toolforge.cli.common import DbOption, JsonOption, default_db, info, is_stdout_path, print_json

SelStatus = Annotated[Status, typer.Option("--status", help="Which records: curated (accepted when reviewed, else valid), valid, accepted, any, ...")]
SelScenario = Annotated[Optional[list[str]], typer.Option("--scenario", "-s", callback=each_one_of(SELECT_SCENARIOS), metavar="SCENARIO", help="Only these scenarios (session: multi-turn sessions).")]
TestFraction = Annotated[float, typer.Option("--test-fraction", min=0.0, max=0.99, help="Share of records in the test split (stratified by scenario, dedup clusters kept together).")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the split.")]
IncludeDups = Annotated[bool, typer.Option("--include-duplicates/--no-include-duplicates", help="Keep records dedup marked as duplicates (their clusters still stay on one side of the split).")]
Think = Annotated[ThinkMode, typer.Option("--think", help="Reasoning: tags (<think> in content), field (reasoning_content), drop.")]


def register(app: typer.Typer) -> None:
    app.command("export", no_args_is_help=True)(export_cmd)
    app.command("push", no_args_is_help=True)(push_cmd)


def _quiet_progress() -> None:
    if not sys.stderr.isatty():
        try:
            import datasets

            datasets.disable_progress_bars()  # type: ignore[attr-defined]
        except ImportError:  # pragma: no cover - hub extra missing; the format check reports it
            pass


def export_cmd(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="openai, trl, sharegpt, hermes, lfm2-audio.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (one file set per split); '-': the JSON Lines on stdout (no test split).")],
    test_fraction: TestFraction = 0.0,
    seed: Seed = 0,
    think: Think = "tags",
    tool_markup: Annotated[ToolMarkup, typer.Option("--tool-markup", help="lfm2-audio: how tool calls are written (tag, lfm2, action).")] = "tag",
    chat_template: Annotated[Optional[Path], typer.Option("--chat-template", help="Keep only the records this model's chat template can render (.jinja file or local tokenizer folder); the others are counted per issue code.")] = None,
    template_name: Annotated[Optional[str], typer.Option("--template-name", help="With --chat-template: which of a folder's named templates.")] = None,
    status: SelStatus = "curated",
    scenario: SelScenario = None,
    include_duplicates: IncludeDups = False,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Export the curated records to a training format, optionally with a test split."""
    from toolforge.cli.display import activity
    from toolforge.export import ExportOptions, export_dataset, get_format
    from toolforge.store import make_selection, open_store

    get_format(fmt)  # unknown or unavailable format: fail before touching anything
    if is_stdout_path(out):
        _export_to_stdout(fmt, test_fraction, as_json)
    _quiet_progress()
    options = ExportOptions(format=fmt, out=out, test_fraction=test_fraction, seed=seed, think=think,
                            tool_markup=tool_markup, selection=make_selection(status=status, scenarios=scenario,
                                                     include_duplicates=include_duplicates),
                            chat_template=chat_template, template_name=template_name)
    if is_stdout_path(out):
        import tempfile

        with tempfile.TemporaryDirectory(prefix="toolforge-export-") as tmp:
            options.out = Path(tmp)
            with open_store(db, create=False) as store, activity("export"):
                result = export_dataset(store, options)
            with (Path(tmp) / "train.jsonl").open("rb") as fh:
                sys.stdout.flush()
                while chunk := fh.read(1 << 20):
                    sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
        info(f"exported {result.splits['train']['n']} records as {fmt} to stdout")
        return
    with open_store(db, create=False) as store, activity("export"):
        result = export_dataset(store, options)
    if as_json:
        print_json(result.to_dict())
        return
    counts = ", ".join(f"{k}: {v['n']}" for k, v in result.splits.items())
    info(f"exported {counts} as {fmt} to {out}")
    for what, counted in (("left out by --chat-template", result.excluded), (f"left out by {fmt}", result.skipped)):
        if counted:
            info(f"warning: {sum(counted.values())} record(s) {what}: "
                 + ", ".join(f"{k}: {v}" for k, v in sorted(counted.items())))
    for p in result.files:
        typer.echo(str(p))


def _export_to_stdout(fmt: str, test_fraction: float, as_json: bool) -> None:
    """``--out -`` needs an export that is one JSON Lines file."""
    from toolforge.errors import UsageError

    if as_json:
        raise UsageError("--out - and --json both write to stdout: give one of them")

    if fmt not in ("openai", "sharegpt", "hermes"):
        raise UsageError(f"--out - writes JSON Lines to stdout; {fmt} writes a folder",
                         hint="use --format openai, sharegpt or hermes, or give --out a folder")
    if test_fraction > 0:
        raise UsageError("--out - writes one split to stdout: leave out --test-fraction", hint="or give --out a folder")


def push_cmd(
    repo_id: Annotated[Optional[str], typer.Argument(help="Hub dataset repo id (namespace/name). Omit with --to.")] = None,
    private: Annotated[bool, typer.Option("--private/--public", help="Create a new repo as private (the default) or public.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Stage into a --stage-dir that holds files toolforge did not write (they are kept and never published).")] = False,
    revision: Annotated[Optional[str], typer.Option("--revision", help="Branch to commit to (created when missing).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Stage only: write the folder, publish nothing.")] = False,
    stage_dir: Annotated[Optional[Path], typer.Option("--stage-dir", help="Where to stage (default: a temporary folder; kept with --dry-run).")] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Publish to S3-compatible storage instead: s3://bucket/prefix.")] = None,
    test_fraction: TestFraction = 0.0,
    seed: Seed = 0,
    think: Think = "tags",
    license_: Annotated[str, typer.Option("--license", help="License in the card metadata.")] = "apache-2.0",
    language: Annotated[Optional[list[str]], typer.Option("--language", help="Language code(s) for the card.")] = None,
    status: SelStatus = "curated",
    scenario: SelScenario = None,
    include_duplicates: IncludeDups = False,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Stage the curated dataset (Parquet shards per split, audio embedded, README card) and publish it in one commit."""
    from toolforge.hub import PushOptions, push_dataset
    from toolforge.store import make_selection

    _quiet_progress()
    options = PushOptions(
        repo_id=repo_id, private=private, force=force, revision=revision, dry_run=dry_run, stage_dir=stage_dir, to=to,
        test_fraction=test_fraction, seed=seed, think=think, license=license_, language=language or ["en"],
        selection=make_selection(status=status, scenarios=scenario, include_duplicates=include_duplicates),
    )
    from toolforge.cli.display import activity

    with activity("push"):
        result = push_dataset(db, options)
    if as_json:
        print_json(result.to_dict())
        return
    counts = ", ".join(f"{k}: {v}" for k, v in result.rows.items())
    if result.published_to:
        info(f"published {counts} to {result.published_to}" + (f" (commit {result.commit_oid})" if result.commit_oid else ""))
    else:
        info(f"staged {counts} in {result.stage_dir} (dry run: nothing published)")
    typer.echo(result.url or str(result.stage_dir))
