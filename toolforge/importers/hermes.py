"""Hermes function-calling data (NousResearch ``hermes-function-calling-v1``).

A line is ``{"id", "conversations": [{"from", "value"}...], "tools"?, "category"?, ...}``
in the ShareGPT layout with roles ``system``, ``human``, ``gpt`` and ``tool``. Tools are
in an optional ``tools`` field (a JSON string or list) or in the system prompt between
``<tools>`` and ``</tools>`` (JSON or a Python literal, one list or several objects).
The assistant calls with ``<tool_call>{"name", "arguments"}</tool_call>`` blocks (read
with the ``hermes`` family parser, single-quoted Python dicts included) and tool results
come back as ``<tool_response>{"name", "content"}</tool_response>`` blocks, one per call.
A system prompt that carries the tool definitions is replaced by the record's ``tools``;
any other system prompt is kept.
"""

from __future__ import annotations

import re
from typing import Any

from toolforge.importers import ConversionError
from toolforge.record import Record

_TOOLS = re.compile(r"<tools>(.*?)</tools>", re.DOTALL)
_RESPONSE = re.compile(r"<tool_response>(.*?)</tool_response>", re.DOTALL)
_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
          "tool": "tool", "function": "tool", "observation": "tool"}


def tools_in_text(text: str) -> list[Any] | None:
    """Tool definitions between ``<tools>`` tags, or None when there are none."""
    from toolforge.importers.infer import json_values, loads_lenient

    blocks = [b.strip() for b in _TOOLS.findall(text)]
    if not blocks:
        return None
    out: list[Any] = []
    for body in blocks:  # the prompt may mention "<tools> </tools>" before the real block
        if not body:
            continue
        try:
            values = json_values(body)
        except ValueError:
            values = [loads_lenient(body)]
        for v in values:
            out.extend(v if isinstance(v, list) else [v])
    return out


def _responses(text: str) -> list[tuple[str | None, str]]:
    from toolforge.importers.infer import as_text, loads_lenient

    blocks = _RESPONSE.findall(text) or [text]
    out: list[tuple[str | None, str]] = []
    for b in blocks:
        body = b.strip()
        try:
            value = loads_lenient(body)
        except ValueError:
            out.append((None, body))
            continue
        if isinstance(value, dict) and "name" in value and ("content" in value or "result" in value):
            out.append((str(value["name"]), as_text(value.get("content", value.get("result")))))
        else:
            out.append((None, as_text(value)))
    return out


def convert_turns(turns: list[Any], tools_raw: list[Any] | None, *, source: str, family: str = "hermes",
                  meta: dict[str, Any] | None = None) -> Record:
    """Records from ShareGPT-layout turns whose assistant text carries calls in ``family`` syntax."""
    from toolforge.formats import ParseError, get_parser
    from toolforge.importers.infer import answer_results, build_record, call_message, tool_from_def

    parse = get_parser(family)
    notes: list[str] = []
    messages: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    counter = [0]
    for i, t in enumerate(turns):
        if not isinstance(t, dict) or not isinstance(t.get("value", t.get("content")), str):
            raise ValueError(f"conversations[{i}]: expected {{\"from\", \"value\"}}")
        role = _ROLES.get(str(t.get("from", t.get("role"))).lower())
        text: str = t.get("value", t.get("content")) or ""
        if role is None:
            raise ValueError(f"conversations[{i}]: unknown role {t.get('from', t.get('role'))!r}")
        if role == "system":
            found = tools_in_text(text)
            if found is not None:
                if tools_raw is None:  # a "tools" field wins over the prompt's copy
                    tools_raw = found
                continue
            messages.append({"role": "system", "content": text})
        elif role == "user":
            if pending:
                raise ValueError(f"conversations[{i}]: a user turn before the tool results of the last call")
            messages.append({"role": "user", "content": text})
        elif role == "assistant":
            if pending:
                raise ValueError(f"conversations[{i}]: an assistant turn before the tool results of the last call")
            try:
                calls = parse(text)
            except ParseError as exc:
                raise ValueError(f"conversations[{i}]: call syntax that cannot be read: {exc}") from None
            if calls:
                before = _text_before_calls(text)
                msg = call_message(calls, counter, content=before)
                pending = msg["tool_calls"]
                messages.append(msg)
            else:
                messages.append({"role": "assistant", "content": text})
        else:
            if not pending:
                raise ValueError(f"conversations[{i}]: a tool result with no call before it")
            messages.extend(answer_results(pending, _responses(text)))
            pending = []
    tools = [tool_from_def(d, notes) for d in (tools_raw or [])]
    return build_record(tools, messages, source=source, notes=notes, meta=meta)


def _text_before_calls(text: str) -> str:
    for marker in ("<tool_call>", "<|tool_call_start|>", "[TOOL_CALLS]"):
        if marker in text:
            return text[: text.index(marker)].strip()
    return ""


def convert(value: Any) -> Record:
    from toolforge.importers.infer import loads_lenient

    if not isinstance(value, dict):
        raise ConversionError(f"expected a JSON object, got {type(value).__name__}")
    turns = value.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise ConversionError('missing "conversations" (a list of {"from", "value"} turns)')
    tools_raw = value.get("tools")
    try:
        if isinstance(tools_raw, str):
            tools_raw = loads_lenient(tools_raw) if tools_raw.strip() else None
        if tools_raw is not None and not isinstance(tools_raw, list):
            raise ValueError('"tools" must be a list of tool definitions')
        meta = {k: value[k] for k in ("category", "subcategory", "task") if isinstance(value.get(k), str)}
        if "id" in value:
            meta["source_id"] = value["id"]
        return convert_turns(turns, tools_raw, source="hermes", meta=meta)
    except ValueError as exc:
        raise ConversionError(str(exc)) from None
