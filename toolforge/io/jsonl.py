"""JSON Lines reading that reports bad lines by number instead of crashing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolforge.errors import InputError
from toolforge.io import safejson

MAX_LINE_BYTES = safejson.MAX_BYTES  # a line past this is reported, not parsed


@dataclass
class Line:
    number: int              # 1-based
    value: Any = None        # the parsed JSON value when ok
    error: str | None = None  # why the line could not be read
    code: str | None = None   # the issue code of that error: json_invalid, too_deep or too_large


def check_readable(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"file not found: {p}")
    if p.is_dir():
        raise InputError(f"{p} is a folder, not a file")
    return p


def read_jsonl(path: str | Path) -> Iterator[Line]:
    """Yield every non-blank line of a JSON Lines file, parsed or with its error.

    ``-`` reads standard input.
    """
    for number, raw in raw_lines(path):
        line = parse_line(number, raw)
        if line is not None:
            yield line


def parse_line(number: int, raw: bytes) -> Line | None:
    """One raw line of a JSON Lines file as a :class:`Line` (parsed, or with its error); None when blank.

    What :func:`read_jsonl` does per line, for code that reads the raw lines itself (the worker processes
    of ``toolforge validate --workers`` decode their own share)."""
    if len(raw) > MAX_LINE_BYTES:
        return Line(number, error=f"line is {len(raw)} bytes, over the {MAX_LINE_BYTES} byte limit [too_large]",
                    code="too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Line(number, error=f"not UTF-8 (byte {exc.start}) [json_invalid]", code="json_invalid")
    if not text.strip():
        return None
    try:
        return Line(number, value=safejson.loads(text))
    except safejson.JSONLimitError as exc:
        return Line(number, error=str(exc), code=exc.code)


def raw_lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """``(number, raw bytes)`` of every line of a JSON Lines file (``-``: standard input), undecoded."""
    import sys

    if str(path) == "-":
        yield from enumerate(sys.stdin.buffer, start=1)
        return
    with check_readable(path).open("rb") as fh:
        yield from enumerate(fh, start=1)


def write_jsonl(path: str | Path, rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> int:
    """Write rows atomically (to a temp file, then rename); returns the row count."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(safejson.dumps(row) + "\n")
            n += 1
    tmp.replace(p)
    return n
