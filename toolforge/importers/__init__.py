"""Import existing datasets into the store.

A format is one module here with a ``convert(value) -> Record`` function (raising
``ConversionError`` with a readable reason) plus one line in ``FORMATS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from toolforge.errors import UsageError
from toolforge.record import Record


class ConversionError(ValueError):
    """A source line that cannot be mapped to a record; the message says why."""


# format name -> module path (each module defines ``convert``)
FORMATS: dict[str, str] = {
    "toolforge": "toolforge.importers.native",
    "openai": "toolforge.importers.native",
    "xlam": "toolforge.importers.xlam",
    "hermes": "toolforge.importers.hermes",
    "glaive": "toolforge.importers.glaive",
    "sharegpt": "toolforge.importers.sharegpt",
    "toolace": "toolforge.importers.toolace",
    "bfcl": "toolforge.importers.bfcl",
}


def get_converter(fmt: str) -> Callable[[Any], Record]:
    if fmt not in FORMATS:
        raise UsageError(f"unknown import format {fmt!r}", hint=f"choose one of: {', '.join(sorted(FORMATS))}")
    mod = importlib.import_module(FORMATS[fmt])
    return guarded(getattr(mod, f"convert_{fmt}", None) or mod.convert)


def guarded(convert: Callable[..., Record]) -> Callable[..., Record]:
    """``convert`` behind the boundary guard: whatever a hostile line provokes while it is
    converted (nesting past the limits, a parser's refusal, RecursionError/MemoryError from
    a pathological value) becomes a :class:`ConversionError` for that line, with its issue
    code, so the other lines go on."""
    import functools

    from toolforge.errors import ToolforgeError
    from toolforge.io.safejson import MAX_DEPTH, JSONLimitError

    if getattr(convert, "_guarded", False):
        return convert

    @functools.wraps(convert)
    def run(value: Any, *args: Any, **kwargs: Any) -> Record:
        try:
            return convert(value, *args, **kwargs)
        except ConversionError:
            raise
        except JSONLimitError as exc:
            raise ConversionError(str(exc)) from None
        except ToolforgeError as exc:  # a family parser's ParseError (too_deep, json_invalid, ...)
            raise ConversionError(str(exc)) from None
        except RecursionError:
            raise ConversionError(f"nested deeper than {MAX_DEPTH} levels [too_deep]") from None
        except MemoryError:
            raise ConversionError("too large to convert [too_large]") from None

    run._guarded = True  # type: ignore[attr-defined]
    return run
