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
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

try:  # typer >= 0.20 vendors click as typer._click
    from typer._click import exceptions as click_exc
    from typer._click.utils import echo as _echo
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import echo as _echo  # type: ignore[no-redef]
    from click import exceptions as click_exc  # type: ignore[no-redef]

from toolforge.cli.display import clean, set_verbosity
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
    "toolforge.cli.train",     # train (LoRA SFT), gaps (targeted recipe), experiment (ablations)
]


def _say_error(message: str, hint: str | None = None) -> None:
    # messages quote data (file lines, ids, option values): no escape sequences reach the terminal
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    _echo(f"error: {clean(first)}", err=True)
    if hint:
        _echo(f"hint: {clean(hint)}", err=True)


def _interrupted(hint: str | None = None) -> None:
    _say_error("interrupted", hint)
    sys.exit(130)


_SIGINT = {"received": False}


def _on_sigint(signum: int, frame: Any) -> None:
    """Python's default (raise KeyboardInterrupt), remembering that Ctrl-C was pressed: what a
    library raises after it (DuckDB's ``RuntimeError: Query interrupted``, a worker's error) is
    then reported as the interruption it is, not as a traceback.

    Inside an import the interrupt waits: a KeyboardInterrupt raised while a native module
    initialises (DuckDB's nanobind enums) aborts the whole process ("Critical nanobind
    error", exit -6). The signal is sent again every 50 ms until the import is done."""
    _SIGINT["received"] = True
    if _importing(frame):
        import os
        import signal
        import threading

        timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
        timer.daemon = True
        timer.start()
        return
    raise KeyboardInterrupt


def _importing(frame: Any) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _catch_sigint() -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


class ToolforgeGroup(TyperGroup):
    """Turns toolforge errors and click usage errors into one-line messages."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        set_verbosity(0)  # log handler on stderr; -q / -v change the level as they are parsed
        if not standalone_mode:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, windows_expand_args=windows_expand_args, **extra)
        _catch_sigint()
        try:
            rv = super().main(args=args, prog_name=prog_name or "toolforge", complete_var=complete_var,
                              standalone_mode=False, windows_expand_args=windows_expand_args, **extra)
        except ToolforgeError as exc:
            if _SIGINT["received"] and exc.exit_code != 130:
                _interrupted()
            _say_error(exc.message, exc.hint)
            sys.exit(exc.exit_code)
        except click_exc.NoArgsIsHelpError as exc:
            _echo(exc.format_message())
            sys.exit(0)
        except click_exc.UsageError as exc:
            cmd = exc.ctx.command_path if exc.ctx else "toolforge"
            _say_error(exc.format_message().replace("Value error, ", ""), f"see `{cmd} --help`")
            sys.exit(exc.exit_code)
        except click_exc.ClickException as exc:
            _say_error(exc.format_message())
            sys.exit(exc.exit_code)
        except (getattr(click_exc, "Abort", KeyboardInterrupt), KeyboardInterrupt):  # vendored click has no Abort
            _interrupted()
        except BrokenPipeError:
            sys.exit(1)
        except Exception as exc:  # a damaged store read mid-command: one line, not a traceback
            if _SIGINT["received"]:  # e.g. DuckDB's "Query interrupted" after Ctrl-C
                _interrupted()
            if not type(exc).__module__.startswith(("duckdb", "_duckdb")):
                raise
            _say_error(f"store error: {exc}", "the store file is damaged, or another process is writing to it")
            sys.exit(2)
        if _SIGINT["received"]:  # a command that caught the interrupt and returned: still an interruption
            _interrupted()
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=ToolforgeGroup,
    name="toolforge",
    help="Build tool-calling training data: generate, validate, dedup, voice, review, export, push, eval.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, powershell)
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from toolforge import __version__

        _echo(f"toolforge {__version__}")
        raise typer.Exit(0)


def _set_quiet(ctx: Any, param: Any, value: bool) -> None:
    if value:
        set_verbosity(-1)


def _set_verbose(ctx: Any, param: Any, value: int) -> None:
    from toolforge.cli.display import verbosity

    if value and verbosity() >= 0:  # -q wins over -v, wherever each was given
        set_verbosity(min(2, value))


QUIET_HELP = "Errors only on stderr: no status lines, progress or warnings."
VERBOSE_HELP = "More detail on stderr: -v info logs, -vv debug logs."
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", callback=_set_quiet, help=QUIET_HELP)]
VerboseOption = Annotated[int, typer.Option("--verbose", "-v", count=True, callback=_set_verbose, show_default=False,
                                            help=VERBOSE_HELP)]


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_show_version,
                                          help="Print the version and exit.")] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = 0,
) -> None:
    """toolforge: tool-calling training data, end to end."""


_VERBOSITY_PARAMS: list[Any] = []


def _verbosity_params() -> list[Any]:
    """typer's own -q/-v parameters, built once from a one-command app (typer's public API)."""
    if not _VERBOSITY_PARAMS:
        probe = typer.Typer(add_completion=False)

        @probe.command()
        def _probe(quiet: QuietOption = False, verbose: VerboseOption = 0) -> None:
            """-q / -v."""

        params = typer.main.get_command(probe).params
        _VERBOSITY_PARAMS.extend(p for p in params if p.name in ("quiet", "verbose"))
        for p in _VERBOSITY_PARAMS:
            p.expose_value = False  # the command functions do not take them
    return _VERBOSITY_PARAMS


class ToolforgeCommand(TyperCommand):
    """Every command also takes -q/--quiet and -v/--verbose after its name (`toolforge export ... -q`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = {n for p in self.params for n in getattr(p, "opts", [])}
        self.params.extend(p for p in _verbosity_params() if not names & set(p.opts))


def _use_command_class(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = ToolforgeCommand
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _use_command_class(group.typer_instance)


for _mod in COMMAND_MODULES:
    importlib.import_module(_mod).register(app)
_use_command_class(app)


def main() -> None:
    app(prog_name="toolforge")
