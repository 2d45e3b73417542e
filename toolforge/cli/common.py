"""Options and output helpers shared by every command module."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from toolforge.store.db import DEFAULT_DB

DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="TOOLFORGE_DB", help="DuckDB store file.", show_default=True),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def default_db() -> Path:
    return Path(DEFAULT_DB)


def stdout_console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=True)


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def info(message: str) -> None:
    """A progress or status message: stderr, never stdout."""
    typer.echo(message, err=True)


def choice_check(value: str, choices: list[str] | tuple[str, ...], what: str) -> str:
    from toolforge.errors import UsageError

    if value not in choices:
        raise UsageError(f"unknown {what} {value!r}", hint=f"choose one of: {', '.join(choices)}")
    return value
