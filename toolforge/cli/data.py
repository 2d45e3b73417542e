"""`toolforge import`, `toolforge list`, `toolforge show`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from toolforge.cli.choices import SELECT_SCENARIOS, ImportFormat, Scenario, Status, each_one_of
from toolforge.cli.common import DbOption, JsonOption, default_db, info, print_json


def register(app: typer.Typer) -> None:
    app.command("import")(import_cmd)
    app.command("list")(list_cmd)
    app.command("show")(show_cmd)


def import_cmd(
    file: Annotated[Path, typer.Argument(help="JSON Lines file to import ('-' for stdin).")],
    fmt: Annotated[ImportFormat, typer.Option("--format", "-f", help="Source format (see README: Import formats).")] = "toolforge",
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Store the good lines even if some are bad.")] = False,
    scenario: Annotated[Optional[Scenario], typer.Option(help="Scenario for records that do not state one.")] = None,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Import a dataset file into the store (idempotent: records are keyed by content id)."""
    from toolforge.importers import get_converter
    from toolforge.importers.run import import_file
    from toolforge.io.jsonl import check_readable
    from toolforge.store import make_selection, open_store

    get_converter(fmt)  # unknown format: fail before touching the store
    if str(file) != "-":
        check_readable(file)
    if scenario:
        make_selection(scenarios=[scenario])  # validates the scenario name
    from toolforge.cli.display import activity

    with open_store(db) as store, activity(f"import {file}"):
        res = import_file(store, file, fmt=fmt, skip_invalid=skip_invalid, scenario=scenario)
    for number, why in res.errors:
        info(f"{file}:{number}: skipped: {why}")
    summary = {"lines": res.lines, "imported": res.new, "already_stored": res.existing, "skipped": len(res.errors)}
    if as_json:
        print_json(summary)
    else:
        info(f"imported {res.new} new records ({res.existing} already stored, {len(res.errors)} skipped) into {db}")


def list_cmd(
    scenario: Annotated[Optional[list[str]], typer.Option("--scenario", "-s", callback=each_one_of(SELECT_SCENARIOS), metavar="SCENARIO", help="Only these scenarios (session: multi-turn sessions).")] = None,
    status: Annotated[Status, typer.Option(help="Which records (see README: Selection).")] = "any",
    include_duplicates: Annotated[bool, typer.Option("--include-duplicates/--no-include-duplicates", help="Also list records marked as duplicates.")] = True,
    limit: Annotated[Optional[int], typer.Option(min=1, help="At most this many records.")] = None,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """List stored records (id, scenario, tools called, first user request)."""
    from toolforge.store import make_selection, open_store

    sel = make_selection(scenarios=scenario, status=status, include_duplicates=include_duplicates, limit=limit)
    with open_store(db, read_only=True) as store:
        records = list(store.iter_records(sel))
    rows = [
        {"id": r.id, "scenario": r.scenario, "calls": [c.name for c in r.calls], "user": r.first_user_text}
        for r in records
    ]
    if as_json:
        print_json(rows)
        return
    from toolforge.cli.display import Column, print_table, stdout_is_terminal

    terminal = stdout_is_terminal()
    table = []
    for r in records:  # a terminal gets short ids and requests; a pipe gets them whole
        user = r.first_user_text if not terminal or len(r.first_user_text) <= 80 else r.first_user_text[:77] + "..."
        table.append([(r.id or "")[:15] if terminal else r.id, r.scenario or "-",
                      ", ".join(c.name for c in r.calls) or "-", user])
    print_table([Column("id", no_wrap=True), "scenario", "calls", Column("user request", fold=True)], table,
                title=f"{len(rows)} records")


def show_cmd(
    record_id: Annotated[str, typer.Argument(help="Record id, or a unique prefix of it.")],
    db: DbOption = default_db(),
) -> None:
    """Print one record as JSON, with its validation issues."""
    from toolforge.errors import InputError
    from toolforge.store import open_store

    with open_store(db, read_only=True) as store:
        ids = store.find_ids(record_id)
        if not ids:
            raise InputError(f"no record with id {record_id!r} in {db}")
        if len(ids) > 1 and record_id not in ids:
            raise InputError(f"id prefix {record_id!r} is ambiguous ({len(ids)} matches)", hint="give more characters")
        rid = record_id if record_id in ids else ids[0]
        rec = store.get_record(rid)
        issues = store.issues_for(rid)
    assert rec is not None
    out = rec.to_dict()
    if issues:
        out["issues"] = issues
    print_json(out)
