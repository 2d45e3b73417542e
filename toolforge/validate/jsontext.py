"""JSON texts of one record parsed once: several checks read the same tool result.

The structural walk, the scenario's error test, the grounding checks and the provenance checks each
parse a tool message's content. :func:`loads` is ``json.loads`` with a small memo keyed by the exact
text: the same text gives the same value, or raises the same ``ValueError`` (``JSONDecodeError``), as
``json.loads`` would; anything else (``RecursionError``) is not kept and propagates as before.
:class:`~toolforge.validate.record_checks.RecordValidator` calls :func:`forget` before each record, so
nothing is carried from one record to the next. Callers only read the values.
"""

from __future__ import annotations

import json
from typing import Any

_MEMO: dict[str, tuple[bool, Any]] = {}
_LIMIT = 64  # a record's texts; a caller that never calls forget() keeps at most this many


def loads(text: str) -> Any:
    hit = _MEMO.get(text)
    if hit is None:
        try:
            hit = (True, json.loads(text))
        except ValueError as exc:  # JSONDecodeError, and the str/bytes errors json raises as ValueError
            hit = (False, exc)
        if len(_MEMO) >= _LIMIT:
            _MEMO.clear()
        _MEMO[text] = hit
    if hit[0]:
        return hit[1]
    raise hit[1]


def forget() -> None:
    """Drop the parsed texts (called before each record)."""
    _MEMO.clear()
