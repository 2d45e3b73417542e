"""Everything the CLI shows passes through here, so data never drives the terminal.

Record text, tool names, ids, annotator names and file contents are data: they
may hold ANSI/OSC escape sequences (clear screen, window title, OSC 8
hyperlinks), C0/C1 control characters, bidi overrides or Rich markup
(``[/bold]``, ``[link=...]``). Before display every such value is

- stripped of escape sequences and control characters (:func:`clean`), and
- escaped for Rich markup when it goes into a Rich renderable (:func:`safe`).

Tables (:func:`print_table`) are drawn with box characters on a terminal and
written as plain tab-separated lines when stdout is a file or a pipe. ``--json``
output (:func:`json_text`) stays exact: JSON escapes C0 controls itself, and C1
controls and bidi overrides are written as ``\\uXXXX`` escapes, which decode to the
same string.

This module imports only the standard library at import time; Rich is loaded
when a table is drawn on a terminal.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

# Escape sequences, removed whole (what follows an ESC is not text either).
_ESCAPES = re.compile(
    r"""
      \x1b\[[0-?]*[\x20-/]*[@-~]?              # CSI: colours, cursor moves, clear screen
    | \x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)? # OSC: window title, OSC 8 hyperlinks, clipboard
    | \x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?    # DCS, SOS, PM, APC strings
    | \x1b[\x20-/]*[0-~]?                        # other ESC sequences (ESC c resets the terminal)
    | \x9b[0-?]*[\x20-/]*[@-~]?                 # 8-bit CSI
    | \x9d[^\x07\x9c]*(?:\x07|\x9c)?            # 8-bit OSC
    | [\x90\x98\x9e\x9f][^\x9c]*\x9c?           # 8-bit DCS, SOS, PM, APC
    """,
    re.VERBOSE,
)
# Lone control characters: C0 (tab and newline handled apart), DEL, C1, and the
# Unicode bidi embeddings/overrides/isolates that reorder what is shown ("Trojan Source").
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\t\u2028\u2029]")
_MULTILINE_BREAKS = re.compile(r"\r\n|\r|\u2028|\u2029")
# Characters written as \uXXXX in JSON output (json.dumps escapes C0 already).
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def clean(value: Any, *, multiline: bool = False) -> str:
    """``value`` as text with no escape sequences or control characters.

    Single-line (table cells, error messages): newlines and tabs become spaces.
    ``multiline``: newlines and tabs stay (``\\r\\n`` and lone ``\\r`` become ``\\n``).
    """
    text = value if isinstance(value, str) else str(value)
    text = _ESCAPES.sub("", text)
    text = _MULTILINE_BREAKS.sub("\n", text) if multiline else _LINE_BREAKS.sub(" ", text)
    return _CONTROLS.sub("", text)


def safe(value: Any, *, multiline: bool = False) -> str:
    """:func:`clean` and escaped for Rich markup: shown literally inside a Rich renderable."""
    from rich.markup import escape

    return escape(clean(value, multiline=multiline))


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """Exact JSON that is safe to print: C1 controls and bidi overrides as ``\\uXXXX``."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class Column:
    name: str
    justify: str = "left"   # left or right (terminal only)
    no_wrap: bool = False   # terminal only: keep the cell on one line (where it fits)
    fold: bool = True       # terminal only: a cell too long folds onto the next line; data is never cut


def _column(c: str | Column) -> Column:
    return c if isinstance(c, Column) else Column(c)


def print_table(columns: Sequence[str | Column], rows: Iterable[Sequence[Any]], *, title: str | None = None,
                file: TextIO | None = None) -> None:
    """A table of data on stdout: box drawing on a terminal, tab-separated lines otherwise.

    Plain form: ``# TITLE`` (when given), the header line, one line per row; cells
    are :func:`clean` single-line text (so a tab or newline in data cannot add a column
    or a row), ``None`` is ``-``. On a terminal every cell is a Rich ``Text`` (never
    parsed as markup).
    """
    cols = [_column(c) for c in columns]
    out = file or sys.stdout
    cells = [["-" if v is None else v for v in row] for row in rows]
    if file is None and stdout_is_terminal():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        # Text objects are never parsed for markup or :emoji: codes: data is shown as it is
        table = Table(title=Text(clean(title)) if title else None, title_justify="left")
        for c in cols:
            table.add_column(Text(clean(c.name)), justify=c.justify,  # type: ignore[arg-type]
                             no_wrap=c.no_wrap, overflow="fold" if c.fold else "ellipsis")
        for row in cells:
            table.add_row(*(Text(clean(v)) for v in row))
        Console(soft_wrap=True, highlight=False).print(table)
        return
    lines = []
    if title:
        lines.append("# " + clean(title))
    lines.append("\t".join(clean(c.name) for c in cols))
    lines.extend("\t".join(clean(v) for v in row) for row in cells)
    out.write("\n".join(lines) + "\n")
    out.flush()


def print_text(text: Any, *, file: TextIO | None = None) -> None:
    """A line (or lines) of text that may quote data, on stdout."""
    out = file or sys.stdout
    out.write(clean(text, multiline=True) + "\n")


# -- verbosity (-q / -v) -------------------------------------------------------------------------

_VERBOSITY = {"level": 0}  # -1 quiet, 0 normal, 1 -v, 2 -vv


def set_verbosity(level: int) -> None:
    """-1 (``-q``): errors only; 0: status lines and warnings; 1 (``-v``): info logs; 2 (``-vv``): debug."""
    _VERBOSITY["level"] = level
    root = logging.getLogger()
    if not any(getattr(h, "_toolforge", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_CleanFormatter("%(message)s"))
        handler._toolforge = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel({-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(level, logging.DEBUG))


def verbosity() -> int:
    return _VERBOSITY["level"]


def is_quiet() -> bool:
    return _VERBOSITY["level"] < 0


class _CleanFormatter(logging.Formatter):
    """A logging formatter whose lines are :func:`clean` (log messages quote data too)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno != logging.INFO:  # info lines read as progress; the others say what they are
            text = f"{record.levelname.lower()}: {text}"
        return clean(text, multiline=True)


# -- progress --------------------------------------------------------------------------------------

def progress_interval() -> float:
    """Seconds between plain progress lines (``TOOLFORGE_PROGRESS_INTERVAL``, default 5)."""
    try:
        value = float(os.environ.get("TOOLFORGE_PROGRESS_INTERVAL", "5"))
    except ValueError:
        return 5.0
    return value if value > 0 else 5.0


class ProgressLines:
    """Progress for a stderr that is not a terminal (a log file, CI): a line every few seconds.

    A daemon thread writes ``PREFIX: STATE (12 s)`` every ``interval`` seconds, where
    ``STATE`` is what ``state()`` returns then, so a slow run still shows it is alive;
    when a run that printed lines ends, its final state is written if it changed. Nothing
    is written with ``-q``. Use as a context manager.
    """

    def __init__(self, prefix: str, state: Callable[[], str], *, interval: float | None = None,
                 file: TextIO | None = None) -> None:
        import threading

        self.prefix = prefix
        self.state = state
        self.interval = progress_interval() if interval is None else interval
        self.file = file
        self.lines = 0
        self.last_text: str | None = None
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="toolforge-progress", daemon=True)

    def __enter__(self) -> ProgressLines:
        if not is_quiet():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.lines and exc[0] is None and self.state() != self.last_text:
            self._write()  # the final state, once, when it changed since the last line

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._write()

    def _write(self) -> None:
        try:
            text = self.state()
            self.last_text = text
            out = self.file or sys.stderr
            out.write(f"{self.prefix}: {clean(text)} ({time.monotonic() - self._start:.0f} s)\n")
            out.flush()
            self.lines += 1
        except Exception:  # noqa: S110 - progress must never break the command
            pass


class activity:  # noqa: N801 - used as a context manager, like contextlib's lower-case helpers
    """Shows that a long command is working: a spinner on a terminal, a line every few seconds elsewhere.

    ``state`` (optional) says how far it is (``"1200/5000 turns"``); without it the lines
    say ``working``. Nothing is shown with ``-q``.
    """

    def __init__(self, label: str, state: Callable[[], str] | None = None) -> None:
        self.label = label
        self.state = state or (lambda: "working")
        self._inner: Any = None

    def __enter__(self) -> activity:
        if is_quiet():
            return self
        if stderr_is_terminal():
            from rich.console import Console

            self._inner = Console(stderr=True).status(clean(self.label), spinner="dots")
        else:
            self._inner = ProgressLines(self.label, self.state)
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._inner is not None:
            self._inner.__exit__(*exc)
