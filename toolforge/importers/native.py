"""The toolforge record format and the OpenAI chat format (arguments as JSON strings).

Both are JSON Lines of ``{"tools", "messages", ...}``; the OpenAI fine-tuning
format differs only in carrying ``arguments`` as strings, which the record
model already accepts. ``id`` in the source is ignored: ids are content
addresses.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from toolforge.importers import ConversionError
from toolforge.record import Record


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "record"
    msg = err["msg"].removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {msg}{more}"


def convert(value: Any) -> Record:
    if not isinstance(value, dict):
        raise ConversionError(f"expected a JSON object, got {type(value).__name__}")
    data = {k: v for k, v in value.items() if k != "id"}
    try:
        return Record.model_validate(data)
    except ValidationError as exc:
        raise ConversionError(_describe(exc)) from None


def convert_toolforge(value: Any) -> Record:
    return convert(value)


def convert_openai(value: Any) -> Record:
    if isinstance(value, dict):
        # The OpenAI format has no scenario or meta; keep them if present, drop unknown top-level keys
        # that the fine-tuning format allows (e.g. "parallel_tool_calls").
        value = {k: v for k, v in value.items() if k in {"tools", "messages", "scenario", "meta", "id"}}
    return convert(value)
