"""The ``toolforge`` command: a thin layer over the library.

Each command group lives in its own module under ``toolforge/cli/`` and exposes
``register(app)``; adding a group is one module plus one line in
``COMMAND_MODULES``. Command modules import only typer and light helpers at
import time, so ``--help`` is fast; heavy work is imported inside commands.

Errors: a :class:`~toolforge.errors.ToolforgeError` or a usage error becomes
``error: ...`` (and ``hint: ...``) on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

try:  # typer >= 0.20 vendors click as typer._click
    from typer._click import exceptions as click_exc
    from typer._click.utils import echo as _echo
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import echo as _echo  # type: ignore[no-redef]
    from click import exceptions as click_exc  # type: ignore[no-redef]

from toolforge.errors import ToolforgeError

COMMAND_MODULES = [
    "toolforge.cli.data",      # import, list, show
    "toolforge.cli.tools",     # tools list|show|validate|from-python
    "toolforge.cli.generate",  # generate, teachers
    "toolforge.cli.tts",       # tts (paired audio)
    "toolforge.cli.run",       # run RECIPE (whole pipeline)
    "toolforge.cli.review",    # review serve|push|pull|status
    "toolforge.cli.export",    # export, push
    "toolforge.cli.eval",      # eval (score models, BFCL)
    "toolforge.cli.dedup",     # dedup (exact, near, semantic, --against)
    "toolforge.cli.stats",     # stats, report
    "toolforge.cli.validate",  # validate (issue codes, execution check, LLM judge)
    "toolforge.cli.formats",   # render, parse (model-family chat formats)
]


def _say_error(message: str, hint: str | None = None) -> None:
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    _echo(f"error: {first}", err=True)
    if hint:
        _echo(f"hint: {hint}", err=True)


class ToolforgeGroup(TyperGroup):
    """Turns toolforge errors and click usage errors into one-line messages."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, windows_expand_args=windows_expand_args, **extra)
        try:
            rv = super().main(args=args, prog_name=prog_name or "toolforge", complete_var=complete_var,
                              standalone_mode=False, windows_expand_args=windows_expand_args, **extra)
        except ToolforgeError as exc:
            _say_error(exc.message, exc.hint)
            sys.exit(exc.exit_code)
        except click_exc.NoArgsIsHelpError as exc:
            _echo(exc.format_message())
            sys.exit(0)
        except click_exc.UsageError as exc:
            cmd = exc.ctx.command_path if exc.ctx else "toolforge"
            _say_error(exc.format_message(), f"see `{cmd} --help`")
            sys.exit(exc.exit_code)
        except click_exc.ClickException as exc:
            _say_error(exc.format_message())
            sys.exit(exc.exit_code)
        except (getattr(click_exc, "Abort", KeyboardInterrupt), KeyboardInterrupt):  # vendored click has no Abort
            _echo("error: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(1)
        except Exception as exc:  # a damaged store read mid-command: one line, not a traceback
            if not type(exc).__module__.startswith(("duckdb", "_duckdb")):
                raise
            _say_error(f"store error: {exc}", "the store file is damaged, or another process is writing to it")
            sys.exit(2)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=ToolforgeGroup,
    name="toolforge",
    help="Build tool-calling training data: generate, validate, dedup, voice, review, export, push, eval.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root() -> None:
    """toolforge: tool-calling training data, end to end."""


for _mod in COMMAND_MODULES:
    importlib.import_module(_mod).register(app)


def main() -> None:
    app(prog_name="toolforge")
