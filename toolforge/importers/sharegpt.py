"""ShareGPT with tools, as LLaMA-Factory documents it for function-calling data.

A line is ``{"conversations": [{"from", "value"}...], "system"?, "tools"?}`` with roles
``human``, ``gpt``, ``function_call`` and ``observation``. ``tools`` is a JSON string (or
list) of ``{name, description, parameters}``. A ``function_call`` turn's value is a JSON
call ``{"name", "arguments"}`` or a list of them (parallel calls); the
``observation`` after it holds the result (for several calls: one observation per call,
or one observation holding a JSON list with one result per call). ``messages`` with
``role``/``content`` are accepted in place of ``conversations``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolforge.importers import ConversionError
from toolforge.record import Record

_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "model": "assistant",
          "function_call": "call", "tool_call": "call", "observation": "tool", "tool": "tool", "function": "tool",
          "system": "system"}


_THOUGHT = re.compile(r"\s*<think>\n?(.*?)\n?</think>\s*", re.DOTALL)
_RESULTS_SEPARATOR = "\n</tool_response>\n<tool_response>\n"  # LLaMA-Factory's OpenAI converter


def convert(value: Any) -> Record:
    from toolforge.importers.infer import (
        answer_results,
        as_text,
        build_record,
        call_message,
        loads_lenient,
        tool_from_def,
    )

    if not isinstance(value, dict):
        raise ConversionError(f"expected a JSON object, got {type(value).__name__}")
    turns = value.get("conversations", value.get("messages"))
    if not isinstance(turns, list) or not turns:
        raise ConversionError('missing "conversations" (a list of {"from", "value"} turns)')
    notes: list[str] = []
    try:
        tools_raw = value.get("tools") or []
        if isinstance(tools_raw, str):
            tools_raw = loads_lenient(tools_raw) if tools_raw.strip() else []
        if not isinstance(tools_raw, list):
            raise ValueError('"tools" must be a list of tool definitions')
        tools = [tool_from_def(d, notes) for d in tools_raw]
        messages: list[dict[str, Any]] = []
        if isinstance(value.get("system"), str) and value["system"].strip():
            messages.append({"role": "system", "content": value["system"]})
        counter = [0]
        pending: list[dict[str, Any]] = []
        results: list[tuple[str | None, str]] = []
        for i, t in enumerate(turns):
            if not isinstance(t, dict):
                raise ValueError(f"conversations[{i}]: expected an object")
            role = _ROLES.get(str(t.get("from", t.get("role"))).lower())
            text = t.get("value", t.get("content"))
            if role is None:
                raise ValueError(f"conversations[{i}]: unknown role {t.get('from', t.get('role'))!r}")
            if role != "tool" and pending:
                messages.extend(answer_results(pending, _split(results, len(pending))))
                pending, results = [], []
            if role == "call":
                thought = _THOUGHT.match(text) if isinstance(text, str) else None
                if thought and isinstance(text, str):  # LLaMA-Factory's thought block before the JSON (toolforge's sharegpt export writes it)
                    text = text[thought.end():]
                calls = loads_lenient(text) if isinstance(text, str) else text
                calls = calls if isinstance(calls, list) else [calls]
                if not calls or not all(isinstance(c, dict) for c in calls):
                    raise ValueError(f"conversations[{i}]: a function_call must be a call object or a list of them")
                msg = call_message(calls, counter)
                if thought and thought.group(1).strip():
                    msg["reasoning"] = thought.group(1)
                pending = msg["tool_calls"]
                messages.append(msg)
            elif role == "tool":
                if not pending:
                    raise ValueError(f"conversations[{i}]: an observation with no function_call before it")
                results.append((None, as_text(text)))
            elif isinstance(text, str):
                messages.append({"role": role, "content": text})
            else:
                raise ValueError(f"conversations[{i}]: value must be text")
        if pending:
            messages.extend(answer_results(pending, _split(results, len(pending))))
        return build_record(tools, messages, source="sharegpt", notes=notes)
    except ValueError as exc:
        raise ConversionError(str(exc)) from None


def _split(results: list[tuple[str | None, str]], n: int) -> list[tuple[str | None, str]]:
    """One observation holding a JSON list of n results answers n parallel calls, or n results
    joined as LLaMA-Factory joins them (``</tool_response>``/``<tool_response>`` between them)."""
    if len(results) == 1 and n > 1 and results[0][1].count(_RESULTS_SEPARATOR) == n - 1:
        return [(None, part) for part in results[0][1].split(_RESULTS_SEPARATOR)]
    if len(results) == 1 and n > 1:
        try:
            value = json.loads(results[0][1])
        except (json.JSONDecodeError, ValueError):
            return results
        if isinstance(value, list) and len(value) == n:
            return [(None, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for v in value]
    return results
