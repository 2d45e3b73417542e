"""Library side of `toolforge render`: text in, text out, with clear input errors."""

from __future__ import annotations

from typing import Any

from toolforge.errors import InputError
from toolforge.formats import get_renderer
from toolforge.io import safejson


def _records(text: str) -> list[Any]:
    text = text.strip()
    if not text:
        raise InputError("no record on stdin", hint="pipe one record as JSON, e.g. `head -1 data.jsonl | toolforge render --family hermes`")
    try:
        return [safejson.loads(text)]
    except safejson.JSONLimitError as exc:
        if not exc.syntax or "\n" not in text:
            raise InputError(f"stdin line {exc.lineno if exc.syntax else 1}: {exc}") from None
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(safejson.loads(line))
        except safejson.JSONLimitError as exc:
            raise InputError(f"stdin line {n}: {exc}") from None
    return out


def render_text(text: str, family: str, *, add_generation_prompt: bool = False) -> str:
    """Render each record in ``text`` (one JSON record, or JSON Lines; renders joined by a newline)."""
    from pydantic import ValidationError

    from toolforge.record import Record

    render = get_renderer(family)
    outs = []
    for value in _records(text):
        if not isinstance(value, dict):
            raise InputError(f"a record is a JSON object, not {type(value).__name__}")
        try:
            rec = Record.model_validate(value)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise InputError(f"not a record: {where}: {err['msg']}", hint="check it with `toolforge validate FILE`") from None
        outs.append(render(rec, add_generation_prompt=add_generation_prompt))
    return "\n".join(outs)
