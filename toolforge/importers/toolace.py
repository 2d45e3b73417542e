"""ToolACE data (``Team-ACE/ToolACE``).

A line is ``{"system": "... Here is a list of functions in JSON format that you can invoke:
[{...}]. ...", "conversations": [{"from": "user"|"assistant"|"tool", "value"}...]}``. The
functions are the JSON list inside the system text (parameters in BFCL's dialect,
``"type": "dict"``); the assistant calls in Python call syntax
``[get_weather(city="Oslo"), ...]`` (read with the ``pythonic`` family parser, never
evaluated); a tool turn holds a JSON list of ``{"name", "results"}``, one per call. The
system text is kept without the function list.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolforge.importers import ConversionError
from toolforge.record import Record


def tools_in_system(system: str) -> tuple[list[Any], str]:
    """The JSON list of functions in ToolACE's system text, and the text without it."""
    dec = json.JSONDecoder()
    start = system.find("[{")
    while start >= 0:
        try:
            value, end = dec.raw_decode(system, start)
        except json.JSONDecodeError:
            start = system.find("[{", start + 1)
            continue
        if isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value):
            return value, (system[:start] + system[end:]).strip()
        start = system.find("[{", end)
    return [], system.strip()


def _results(text: str, n: int) -> list[tuple[str | None, str]]:
    from toolforge.importers.infer import as_text, loads_lenient

    try:
        value = loads_lenient(text)
    except ValueError:
        return [(None, text)]
    if isinstance(value, list) and len(value) == n and all(isinstance(v, dict) for v in value):
        return [(str(v["name"]) if "name" in v else None, as_text(v.get("results", v.get("result", v))))
                for v in value]
    return [(None, as_text(value))]


def _parse_calls(parse: Any, text: str, names: list[str]) -> list[dict[str, Any]]:
    """ToolACE names may hold spaces (``Get Recipe(dish="x")``): such known names are swapped for
    identifiers before the pythonic parser reads the calls, then swapped back."""
    swaps: dict[str, str] = {}
    for k, name in enumerate(sorted(names, key=len, reverse=True)):
        if not name.isidentifier() and f"{name}(" in text:
            alias = f"_toolace_fn_{k}"
            swaps[alias] = name
            text = re.sub(rf"(?<![\w.]){re.escape(name)}\(", alias + "(", text)
    calls = parse(text)
    return [{**c, "name": swaps.get(c["name"], c["name"])} for c in calls]


def convert(value: Any) -> Record:
    from toolforge.formats import ParseError, get_parser
    from toolforge.importers.infer import answer_results, build_record, call_message, tool_from_def

    if not isinstance(value, dict):
        raise ConversionError(f"expected a JSON object, got {type(value).__name__}")
    turns = value.get("conversations")
    system = value.get("system", "")
    if not isinstance(turns, list) or not turns:
        raise ConversionError('missing "conversations" (a list of {"from", "value"} turns)')
    if not isinstance(system, str):
        raise ConversionError('"system" must be text')
    parse = get_parser("pythonic")
    notes: list[str] = []
    try:
        defs, rest = tools_in_system(system)
        tools = [tool_from_def(d, notes) for d in defs]
        messages: list[dict[str, Any]] = [{"role": "system", "content": rest}] if rest else []
        counter = [0]
        pending: list[dict[str, Any]] = []
        for i, t in enumerate(turns):
            if not isinstance(t, dict) or not isinstance(t.get("value"), str):
                raise ValueError(f"conversations[{i}]: expected {{\"from\", \"value\"}}")
            role, text = str(t.get("from")).lower(), t["value"]
            if role == "tool":
                if not pending:
                    raise ValueError(f"conversations[{i}]: a tool result with no call before it")
                messages.extend(answer_results(pending, _results(text, len(pending))))
                pending = []
                continue
            if pending:
                raise ValueError(f"conversations[{i}]: the calls before this turn have no tool result")
            if role == "user":
                messages.append({"role": "user", "content": text})
            elif role == "assistant":
                calls: list[dict[str, Any]] = []
                if text.strip().startswith("[") and text.strip().endswith(")]"):
                    try:
                        calls = _parse_calls(parse, text.strip(), [d["name"] for d in defs])
                    except ParseError as exc:
                        raise ValueError(f"conversations[{i}]: call syntax that cannot be read: {exc}") from None
                if calls:
                    msg = call_message(calls, counter)
                    pending = msg["tool_calls"]
                    messages.append(msg)
                else:
                    messages.append({"role": "assistant", "content": text})
            else:
                raise ValueError(f"conversations[{i}]: unknown role {t.get('from')!r}")
        meta: dict[str, Any] = {}
        if pending:
            notes.append("the last calls have no tool result")
            meta["call_only"] = True
        return build_record(tools, messages, source="toolace", notes=notes, meta=meta)
    except ValueError as exc:
        raise ConversionError(str(exc)) from None
