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
    return getattr(mod, f"convert_{fmt}", None) or mod.convert
