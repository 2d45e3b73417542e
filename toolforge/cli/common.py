"""Options and output helpers shared by every command module.

Everything written here goes through :mod:`toolforge.cli.display`: messages are
cleaned of escape sequences and control characters, JSON is exact and safe to print.
This module must stay cheap to import (``--help`` loads it): no pydantic, DuckDB or Rich.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from toolforge.cli.display import clean, is_quiet, json_text

DEFAULT_DB = "toolforge.duckdb"  # toolforge.store.db.DEFAULT_DB (a test checks they agree)

DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="TOOLFORGE_DB", help="DuckDB store file.", show_default=True),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def default_db() -> Path:
    return Path(DEFAULT_DB)


def stdout_console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=True, highlight=False)


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json_text(data) + "\n")


def info(message: str) -> None:
    """A progress or status message: stderr, never stdout; cleaned (it may quote data); silent with -q."""
    if not is_quiet():
        typer.echo(clean(message, multiline=True), err=True)


def warn(message: str) -> None:
    """A warning the user should see unless they asked for errors only (-q)."""
    info(f"warning: {message}")


def choice_check(value: str, choices: list[str] | tuple[str, ...], what: str) -> str:
    from toolforge.errors import UsageError

    if value not in choices:
        raise UsageError(f"unknown {what} {value!r}", hint=f"choose one of: {', '.join(choices)}")
    return value


def is_stdout_path(path: Path | str | None) -> bool:
    """``-o -``: write to stdout instead of a file."""
    return path is not None and str(path) == "-"


def key_values(pairs: list[str] | None, option: str) -> dict[str, Any]:
    """``KEY=VALUE`` options (``--teacher-option n_threads=2``, ``--var enable_thinking=false``): a value
    that reads as JSON is JSON, anything else a string."""
    import json

    from toolforge.errors import UsageError

    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise UsageError(f"{option} {pair!r} is not KEY=VALUE", hint=f"e.g. {option} name=value")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out
