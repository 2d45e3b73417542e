"""`toolforge validate`: issue codes for records in the store or in a JSON Lines file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from toolforge.cli.choices import SELECT_SCENARIOS, Status, each_one_of
from toolforge.cli.common import JsonOption, info, print_json


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_cmd)


def validate_cmd(
    file: Annotated[Optional[Path], typer.Argument(help="JSON Lines file to check without a store ('-' for stdin).")] = None,
    db: Annotated[Optional[Path], typer.Option("--db", envvar="TOOLFORGE_DB", help="DuckDB store file (default toolforge.duckdb).")] = None,
    execute: Annotated[bool, typer.Option("--execute", help="Also run safe registered tools and compare their results.")] = False,
    judge: Annotated[Optional[str], typer.Option("--judge", metavar="TEACHER_SPEC", help="Also ask an LLM judge (e.g. openai:MODEL@URL, llamacpp:smollm2).")] = None,
    rubric: Annotated[Optional[Path], typer.Option("--rubric", metavar="FILE", help="The judge's rubric (YAML: common and per-scenario checks), merged over the packaged one.")] = None,
    scenario: Annotated[Optional[list[str]], typer.Option("--scenario", "-s", callback=each_one_of(SELECT_SCENARIOS), metavar="SCENARIO", help="Store only: only these scenarios (session: multi-turn sessions).")] = None,
    status: Annotated[Status, typer.Option(help="Store only: which records (any, unvalidated, valid, invalid, ...).")] = "any",
    limit: Annotated[Optional[int], typer.Option(min=1, help="At most this many records.")] = None,
    no_scenario_check: Annotated[bool, typer.Option("--no-scenario-check", help="Skip the scenario shape check.")] = False,
    no_grounding: Annotated[bool, typer.Option("--no-grounding", help="Skip the grounding checks (answers, arguments and steps the conversation does not support).")] = False,
    workers: Annotated[int, typer.Option("--workers", "-j", min=0, help="Processes for the schema checks of a large input (over 1,000 records); 0: one per core. With --execute or --judge a file is checked in one process.")] = 0,
    show: Annotated[int, typer.Option(min=0, help="Print at most this many issue lines (0: summary only).")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Check records: JSON, tool calls against their schemas, message order, scenario shape.

    Exit status 1 when error-level issues were found, 0 when clean, 2 for usage errors.
    """
    from toolforge.errors import UsageError
    from toolforge.validate.service import ValidateConfig, run_validate

    if file is not None and db is not None:
        raise UsageError("give either a JSON Lines FILE or --db, not both")
    if rubric is not None and judge is None:
        raise UsageError("--rubric is the judge's rubric: give --judge TEACHER_SPEC too")
    cfg = ValidateConfig(file=str(file) if file is not None else None, db=str(db or "toolforge.duckdb"),
                         execute=execute, judge=judge, rubric=str(rubric) if rubric else None, scenarios=scenario, status=status, limit=limit,
                         check_scenario=not no_scenario_check, check_grounding=not no_grounding, workers=workers)
    from toolforge.cli.display import activity

    with activity("validate"):
        report = run_validate(cfg)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report, show)
    if report.has_errors:
        raise typer.Exit(1)


def _print_report(report: Any, show: int) -> None:
    from toolforge.cli.display import Column, print_table, print_text

    shown = 0
    for where, issue in report.issue_lines():  # messages quote the data: print_text cleans them
        if shown >= show:
            break
        print_text(f"{where}: {issue.severity} {issue.code} {issue.path}: {issue.message}".replace("\n", " "))
        shown += 1
    total = sum(s.n_issues for s in report.summaries)
    if total > shown:
        info(f"... {total - shown} more issues (see --json, or `toolforge show ID`)")
    for s in report.summaries:
        print_table(["code", Column("issues", justify="right")],
                    sorted(s.codes.items(), key=lambda kv: (-kv[1], kv[0])),
                    title=f"{s.stage}: {s.records} records, {s.ok} ok, {s.failed} with errors")
