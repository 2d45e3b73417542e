"""The one guard where untrusted JSON enters toolforge: size and depth limits, and no NaN/Infinity.

Everything read from outside (import files, predictions, references, catalogs,
records on stdin, JSON inside a record such as wire-format ``arguments``,
model output) goes through :func:`loads`. It refuses, with an issue code:

- ``json_invalid``: not JSON; this includes ``NaN``, ``Infinity``, ``-Infinity``,
  numbers that overflow to infinity (``1e999``) and integers longer than
  Python will convert (4,300 digits);
- ``too_deep``: arrays/objects nested deeper than :data:`MAX_DEPTH`;
- ``too_large``: text longer than :data:`MAX_BYTES`, or memory ran out.

A refusal is a :class:`JSONLimitError`, a subclass of
``json.JSONDecodeError``, so code that already catches bad JSON catches
these too; ``exc.code`` names the class and ``str(exc)`` reads
``"JSON nested deeper than 64 levels [too_deep]"``.

:func:`dumps` is the writing side: ``allow_nan=False``, so a non-finite
number can never be written as the non-JSON token ``NaN``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

#: deepest nesting of arrays/objects accepted anywhere (a record with nested tool schemas stays
#: under 30; the validators and schema checks downstream recurse per level, so keep this well
#: under Python's recursion limit)
MAX_DEPTH = 64
#: the longest JSON text accepted in one piece (one line of a JSON Lines file, one file)
MAX_BYTES = 16 * 1024 * 1024

CODES = ("json_invalid", "too_deep", "too_large")


class JSONLimitError(json.JSONDecodeError):
    """JSON refused at the boundary; ``code`` is one of :data:`CODES`."""

    def __init__(self, code: str, msg: str, doc: str = "", pos: int = 0, *, syntax: bool = False) -> None:
        super().__init__(msg, doc if isinstance(doc, str) else "", pos)
        self.code = code
        self.syntax = syntax  # a plain syntax error (the text may be readable after repair)

    def __str__(self) -> str:
        return f"{self.msg} [{self.code}]"

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (multiprocessing workers)
        return (_rebuild, (self.code, self.msg, self.doc, self.pos, self.syntax))


def _rebuild(code: str, msg: str, doc: str, pos: int, syntax: bool) -> JSONLimitError:
    return JSONLimitError(code, msg, doc, pos, syntax=syntax)


class _NonFinite(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NonFinite(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NonFinite(f"{text[:40]} overflows to Infinity, which is not JSON")
    return value


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """``json.loads`` with the limits above; raises :class:`JSONLimitError` (or ``JSONDecodeError``)."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > max_bytes:
            raise JSONLimitError("too_large", f"JSON text is {len(text)} bytes, over the {max_bytes} byte limit")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONLimitError("json_invalid", f"not JSON: not UTF-8 (byte {exc.start})") from None
    elif len(text) > max_bytes:
        raise JSONLimitError("too_large", f"JSON text is {len(text)} characters, over the {max_bytes} limit")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float)
    except JSONLimitError:
        raise
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        raise JSONLimitError("json_invalid", f"not JSON: {exc.msg} at {where}", exc.doc, exc.pos, syntax=True) from None
    except _NonFinite as exc:
        raise JSONLimitError("json_invalid", f"not JSON: {exc}") from None
    except RecursionError:
        raise JSONLimitError("too_deep", f"JSON nested deeper than {max_depth} levels") from None
    except MemoryError:
        raise JSONLimitError("too_large", "JSON text too large to hold in memory") from None
    except ValueError as exc:  # e.g. an integer over Python's 4,300-digit conversion limit
        raise JSONLimitError("json_invalid", "not JSON: " + str(exc).split(";")[0]) from None
    if (text.count("[") + text.count("{")) > max_depth:  # only then can it be too deep
        check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise ``too_deep`` when ``value`` nests lists/dicts deeper than ``max_depth`` (no recursion)."""
    _walk(value, max_depth, finite=False)


def check_value(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """For values decoded elsewhere (YAML, Parquet, Python): depth limit and finite numbers only."""
    _walk(value, max_depth, finite=True)


def _walk(value: Any, max_depth: int, *, finite: bool) -> None:
    """One iterative walk for both checks; ``finite`` also refuses NaN/Infinity floats."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if finite and isinstance(v, float) and not math.isfinite(v):
            raise JSONLimitError("json_invalid", f"not JSON: {v!r} is not a JSON number")
        if isinstance(v, dict):
            items: Iterable[Any] = v.values()
        elif isinstance(v, (list, tuple)):
            items = v
        else:
            continue
        if d > max_depth:
            raise JSONLimitError("too_deep", f"JSON nested deeper than {max_depth} levels")
        stack.extend((x, d + 1) for x in items if finite or isinstance(x, (dict, list, tuple)))


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that keeps unicode and never writes ``NaN``/``Infinity`` (ValueError instead)."""
    kwargs.setdefault("ensure_ascii", False)
    kwargs["allow_nan"] = False
    return json.dumps(value, **kwargs)


def issue_code(exc: BaseException) -> str:
    """The issue code for an exception raised while reading untrusted input."""
    if isinstance(exc, JSONLimitError):
        return exc.code
    if isinstance(exc, RecursionError):
        return "too_deep"
    if isinstance(exc, MemoryError):
        return "too_large"
    return "json_invalid"


def loads_stored(text: str | bytes) -> Any:
    """Decode JSON that toolforge itself wrote (store columns): as fast as ``json.loads``, but
    ``NaN``/``Infinity`` (which Python writes for non-finite floats, and older versions let into
    a store) raise ValueError instead of becoming values an export would write back out."""
    if type(text) is str and not text.startswith("\ufeff"):  # what json.loads does, less a decoder per call
        return _STORED_DECODER.decode(text)
    return json.loads(text, parse_constant=_stored_constant)


def _stored_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_STORED_DECODER = json.JSONDecoder(parse_constant=_stored_constant)


def unreadable(exc: BaseException, what: str = "stored JSON") -> str:
    """A one-line reason, with its code, for JSON that ``json.loads`` could not read (as a row
    written before these limits existed): RecursionError, MemoryError or ValueError."""
    if isinstance(exc, RecursionError):
        return f"{what} nested deeper than {MAX_DEPTH} levels [too_deep]"
    if isinstance(exc, MemoryError):
        return f"{what} too large to read [too_large]"
    return f"{what} is not readable: {str(exc)[:120]} [json_invalid]"


__all__ = ["CODES", "MAX_BYTES", "MAX_DEPTH", "JSONLimitError", "check_depth", "check_value", "dumps",
           "issue_code", "loads", "loads_stored", "unreadable"]
