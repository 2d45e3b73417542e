"""Glaive function-calling data (``glaiveai/glaive-function-calling-v2``).

A line is ``{"system": "SYSTEM: ... -\n{function json}\n{function json}", "chat": "USER: ...
ASSISTANT: <functioncall> {"name": ..., "arguments": '{...}'} <|endoftext|> FUNCTION RESPONSE:
{...} ASSISTANT: ... <|endoftext|>"}``. The system text holds the function definitions as
JSON objects one after another (none for "no access to external functions"); the chat
is split on its ``USER:``, ``ASSISTANT:`` and ``FUNCTION RESPONSE:`` markers. A call's
``arguments`` are a single-quoted JSON string (or an object); each call is answered by
the ``FUNCTION RESPONSE`` after it. The system sentence itself is kept as the system
message, without the definitions.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolforge.importers import ConversionError
from toolforge.record import Record

_MARK = re.compile(r"(?:^|\n)\s*(USER|ASSISTANT|FUNCTION RESPONSE|SYSTEM):\s?")
_CALL = re.compile(r"<functioncall>\s*(.*?)\s*(?:<\|endoftext\|>|$)", re.DOTALL)
_NAME = re.compile(r'"name"\s*:\s*"([^"]+)"')


def parse_functioncall(body: str) -> dict[str, Any]:
    """``{"name": "f", "arguments": '{"a": 1}'}`` (Glaive's quoting) -> ``{"name", "arguments"}``."""
    from toolforge.importers.infer import loads_lenient

    try:
        value = json.loads(body)
        if isinstance(value, dict) and "name" in value:
            args = value.get("arguments", {})
            return {"name": value["name"], "arguments": loads_lenient(args) if isinstance(args, str) else args}
    except (json.JSONDecodeError, ValueError):
        pass
    name = _NAME.search(body)
    if not name:
        raise ValueError(f"a <functioncall> without a function name: {body[:60]!r}")
    m = re.search(r'"arguments"\s*:\s*', body)
    if not m:
        return {"name": name.group(1), "arguments": {}}
    rest = body[m.end():].strip().rstrip("}").strip()
    if rest.startswith("'") and rest.endswith("'"):
        rest = rest[1:-1]
    try:
        args = json.loads(rest)
    except json.JSONDecodeError as exc:
        raise ValueError(f"arguments of {name.group(1)!r} are not JSON: {exc.msg}") from None
    return {"name": name.group(1), "arguments": args}


def _segments(chat: str) -> list[tuple[str, str]]:
    marks = list(_MARK.finditer(chat))
    if not marks:
        raise ValueError("the chat has no USER:/ASSISTANT: markers")
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(chat)
        text = chat[m.end():end].replace("<|endoftext|>", "").strip()
        out.append((m.group(1), text))
    return out


def convert(value: Any) -> Record:
    from toolforge.importers.infer import (
        answer_results,
        build_record,
        call_message,
        json_values,
        tool_from_def,
    )

    if not isinstance(value, dict):
        raise ConversionError(f"expected a JSON object, got {type(value).__name__}")
    system, chat = value.get("system", ""), value.get("chat")
    if not isinstance(chat, str) or not chat.strip():
        raise ConversionError('missing "chat" (the USER:/ASSISTANT: transcript)')
    if not isinstance(system, str):
        raise ConversionError('"system" must be text')
    notes: list[str] = []
    try:
        system = re.sub(r"^\s*SYSTEM:\s*", "", system)
        brace = system.find("{")
        sentence = (system[:brace] if brace >= 0 else system).strip().rstrip("-").strip()
        defs = json_values(system[brace:]) if brace >= 0 else []
        tools = [tool_from_def(d, notes) for d in defs]
        messages: list[dict[str, Any]] = [{"role": "system", "content": sentence}] if sentence else []
        counter = [0]
        pending: list[dict[str, Any]] = []
        for role, text in _segments(chat):
            if role == "FUNCTION RESPONSE":
                if not pending:
                    raise ValueError("a FUNCTION RESPONSE with no <functioncall> before it")
                messages.extend(answer_results(pending, [(None, text)]))
                pending = []
                continue
            if pending:
                raise ValueError(f"a <functioncall> to {pending[0]['function']['name']!r} has no FUNCTION RESPONSE")
            if role == "USER":
                messages.append({"role": "user", "content": text})
            elif role == "SYSTEM":
                messages.append({"role": "system", "content": text})
            else:
                m = _CALL.search(text)
                if m:
                    msg = call_message([parse_functioncall(m.group(1))], counter, content=text[: m.start()].strip())
                    pending = msg["tool_calls"]
                    messages.append(msg)
                else:
                    messages.append({"role": "assistant", "content": text})
        meta: dict[str, Any] = {}
        if pending:  # the transcript stops at the call: keep it as a call-only record
            notes.append(f"the last call ({pending[0]['function']['name']}) has no FUNCTION RESPONSE")
            meta["call_only"] = True
        return build_record(tools, messages, source="glaive", notes=notes, meta=meta)
    except ValueError as exc:
        raise ConversionError(str(exc)) from None
