"""Scenario inference from a conversation's shape, for records that do not state one.

The rules, in order (the first that applies wins):

1. no assistant message calls a tool -> ``no_tool_needed``
2. a tool result reports an error and the assistant speaks again -> ``error_recovery``
3. an assistant message before the first call carries a long reasoning block
   (at least ``REASONING_CHARS`` characters) -> ``reasoning_heavy``
4. all calls are in one assistant turn: one call -> ``single_tool``,
   two or more -> ``multi_tool_parallel``
5. calls over two or more turns: three or more calls -> ``complex_multi_step``,
   else ``multi_tool_sequential``
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from toolforge.io import safejson
from toolforge.record import Record

log = logging.getLogger(__name__)

REASONING_CHARS = 400
_ERROR_TEXT = re.compile(r"^\s*(error|exception|traceback|failed|invalid)\b", re.IGNORECASE)


def is_error_result(content: str | None) -> bool:
    """Whether a tool result reads as an error (an ``error`` key, or text that starts like one)."""
    if not content:
        return False
    try:
        value: Any = safejson.loads(content)
    except (json.JSONDecodeError, ValueError):
        return bool(_ERROR_TEXT.match(content))
    if isinstance(value, dict):
        return bool(value.get("error")) or value.get("status") in ("error", "failed")
    return False


def infer_scenario(record: Record) -> str:
    msgs = record.messages
    call_turns = [len(m.tool_calls or []) for m in msgs if m.role == "assistant" and m.tool_calls]
    total = sum(call_turns)
    if total == 0:
        return "no_tool_needed"
    for i, m in enumerate(msgs):
        if m.role == "tool" and is_error_result(m.content) and any(x.role == "assistant" for x in msgs[i + 1:]):
            return "error_recovery"
    for m in msgs:
        if m.role != "assistant":
            continue
        if m.reasoning and len(m.reasoning) >= REASONING_CHARS:
            return "reasoning_heavy"
        if m.tool_calls:
            break
    if len(call_turns) == 1:
        return "single_tool" if total == 1 else "multi_tool_parallel"
    return "complex_multi_step" if total >= 3 else "multi_tool_sequential"


# -- shape normalisation shared by the converters ---------------------------------------------
def loads_lenient(text: str) -> Any:
    """JSON, or a Python literal (``{'a': True}``, as some datasets write it). Never evaluates code:
    the literal is read with ``ast`` behind the parsers' limits and only JSON-able literals are
    accepted. NaN/Infinity and text past the depth/size limits are refused with their code
    (a :class:`~toolforge.io.safejson.JSONLimitError`, a ValueError)."""
    from toolforge.formats._common import ParseError, literal, safe_ast

    try:
        return safejson.loads(text)
    except safejson.JSONLimitError as exc:
        if not exc.syntax:
            raise
    try:
        return literal(safe_ast(text.strip()).body)
    except ParseError as exc:
        raise safejson.JSONLimitError(exc.code, exc.message.rsplit(" [", 1)[0]) from None
    except ValueError as exc:
        if "JSON" in str(exc):  # a literal that is no JSON value (1e999)
            raise safejson.JSONLimitError("json_invalid", f"not JSON: {exc}") from None
        raise ValueError(f"neither JSON nor a literal: {text.strip()[:60]!r}") from None
    except (SyntaxError, TypeError, MemoryError, RecursionError):
        raise ValueError(f"neither JSON nor a literal: {text.strip()[:60]!r}") from None


def json_values(text: str) -> list[Any]:
    """Every JSON value in ``text`` written one after another (whitespace or commas between)."""
    from toolforge.formats._common import raw_decode

    out: list[Any] = []
    i = 0
    text = text.strip()
    while i < len(text):
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            break
        value, i = raw_decode(text, i)
        out.append(value)
    return out


def tool_from_def(d: Any, notes: list[str]) -> dict[str, Any]:
    """A record tool from a definition in any common shape: OpenAI ``{type, function}``, a bare
    ``{name, description, parameters}`` with JSON Schema or BFCL-dialect parameters, or xLAM's
    ``{param: {type: "List[int]", ...}}``. Raises ValueError for what cannot be mapped."""
    from toolforge.importers.xlam import looks_like_xlam_params, xlam_params_to_schema
    from toolforge.validate.dialect import bfcl_to_jsonschema

    if isinstance(d, str):
        d = loads_lenient(d)
    if not isinstance(d, dict):
        raise ValueError(f"a tool definition must be an object, got {type(d).__name__}")
    fn: dict[str, Any] = d["function"] if isinstance(d.get("function"), dict) else d
    name = fn.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a tool definition has no name")
    params = fn.get("parameters")
    if params is None:
        params = {"type": "object", "properties": {}}
    if not isinstance(params, dict):
        raise ValueError(f"tool {name!r}: parameters must be an object")
    if looks_like_xlam_params(params):
        schema = xlam_params_to_schema(params, notes, where=f"tool {name!r}")
    else:
        schema = bfcl_to_jsonschema(params)
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
    _check_schema(name, schema)
    desc = fn.get("description")
    return {"type": "function", "function": {"name": name.strip(), "description": desc if isinstance(desc, str) else "",
                                             "parameters": schema}}


def _check_schema(name: str, schema: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if schema.get("type") != "object":
        raise ValueError(f"tool {name!r}: parameters must be an object schema, got type {schema.get('type')!r}")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "parameters"
        raise ValueError(f"tool {name!r}: not a valid JSON Schema at {where}: {exc.message[:120]}") from None


def build_record(tools: list[dict[str, Any]], messages: list[dict[str, Any]], *, source: str,
                 notes: list[str] | None = None, meta: dict[str, Any] | None = None) -> Record:
    """A record (scenario inferred from its shape) from converted parts; notes about what was
    mapped loosely go to ``meta.import_notes``. Raises ValueError when the parts do not make a record."""
    from pydantic import ValidationError

    full_meta: dict[str, Any] = {"source_format": source, **(meta or {})}
    if notes:
        full_meta["import_notes"] = notes
        for n in notes:
            log.warning("%s import: %s", source, n)
    try:
        rec = Record.model_validate({"tools": tools, "messages": messages, "meta": full_meta})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        raise ValueError(f"{loc}: {err['msg'].removeprefix('Value error, ')}") from None
    if not rec.tools and not rec.calls:
        # not a tool-calling example (no tools offered): no scenario fits, leave it for the user
        return rec
    return rec.model_copy(update={"scenario": infer_scenario(rec)})


def call_message(calls: list[dict[str, Any]], counter: list[int], content: str = "") -> dict[str, Any]:
    """An assistant message with ``calls`` (``{"name", "arguments"}``), numbering call ids per record."""
    out = []
    for c in calls:
        args = c.get("arguments", {})
        if isinstance(args, str):
            args = loads_lenient(args) if args.strip() else {}
        if not isinstance(args, dict):
            raise ValueError(f"arguments of {c.get('name')!r} are not an object")
        if not isinstance(c.get("name"), str) or not c["name"]:
            raise ValueError("a call has no function name")
        counter[0] += 1
        out.append({"id": f"call_{counter[0]}", "type": "function", "function": {"name": c["name"], "arguments": args}})
    return {"role": "assistant", "content": content, "tool_calls": out}


def answer_results(pending: list[dict[str, Any]], results: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
    """Tool messages answering ``pending`` calls (in order, or by name when names are given)."""
    if len(results) != len(pending):
        raise ValueError(f"{len(pending)} call(s) but {len(results)} tool result(s)")
    out = []
    left = list(pending)
    for name, content in results:
        idx = next((i for i, c in enumerate(left) if name is not None and c["function"]["name"] == name), 0)
        call = left.pop(idx)
        out.append({"role": "tool", "tool_call_id": call["id"], "name": call["function"]["name"], "content": content})
    return out


def as_text(value: Any) -> str:
    """Tool result content as text (JSON for structured values; never NaN)."""
    if isinstance(value, str):
        return value
    return safejson.dumps(value)
