"""Phi-4-mini tool calling: ``functools[{"name": ..., "arguments": {...}}]``, or ``<|tool_call|>{json}<|/tool_call|>``.

Rendered as the Phi-4-mini-instruct template does: ``<|role|>content<|end|>``
turns, the tools as a JSON list between ``<|tool|>`` and ``<|/tool|>`` in the
system turn, calls as ``functools[...]`` in the assistant content, tool results
in ``<|tool|>`` turns, ``<|endoftext|>`` at the end unless a generation
prompt is asked for. The parser also reads the form llama.cpp's Phi-4-mini template
(``models/templates/llama-cpp-microsoft-Phi-4-mini-instruct.jinja``) writes and prompts
for: each call as ``<|tool_call|>{"name": ..., "arguments": ...}<|/tool_call|>``.
"""

from __future__ import annotations

import re
from typing import Any

from toolforge.formats._common import (
    Call,
    ParseError,
    balanced_prefix,
    calls_from_json,
    content_of,
    message_calls,
    record_dict,
    segments,
    split_system,
    tojson,
    tool_defs,
)


def render(record: Any, *, add_generation_prompt: bool = False) -> str:
    d = record_dict(record)
    system, rest = split_system(d["messages"])
    tools = tool_defs(d)
    out = []
    if tools:
        fns = [t["function"] for t in tools]
        out.append("<|system|>" + (system or "") + "<|tool|>" + tojson(fns) + "<|/tool|><|end|>")
    elif system is not None:
        out.append("<|system|>" + system + "<|end|>")
    for m in rest:
        role = m["role"]
        if role == "assistant":
            calls = message_calls(m)
            text = content_of(m)
            if calls:
                text = (text + " " if text else "") + "functools" + tojson(
                    [{"name": c["name"], "arguments": c["arguments"]} for c in calls])
            out.append("<|assistant|>" + text + "<|end|>")
        else:
            out.append(f"<|{role}|>" + content_of(m) + "<|end|>")
    out.append("<|assistant|>" if add_generation_prompt else "<|endoftext|>")
    return "".join(out)


_MARK = re.compile(r"functools\s*(?=\[)")
_TAGGED = re.compile(r"<\|tool_call\|>(.*?)(?:<\|/tool_call\|>|(?=<\|tool_call\|>)|<\|end\|>|<\|endoftext\|>|\Z)", re.S)


def _functools_spans(part: str) -> list[tuple[int, int]]:
    spans = []
    for m in _MARK.finditer(part):
        body = part[m.end():].split("<|end|>", 1)[0].split("<|endoftext|>", 1)[0]
        spans.append((m.start(), m.end() + len(balanced_prefix(body))))
    return spans


def _parse_part(part: str) -> list[Call]:
    calls: list[Call] = []
    for start, end in _functools_spans(part):
        body = part[start:end]
        body = body[_MARK.match(body).end():] if _MARK.match(body) else body  # type: ignore[union-attr]
        if not body.strip():
            raise ParseError("functools with no call list")
        calls.extend(calls_from_json(body))
    for m in _TAGGED.finditer(part):
        body = m.group(1).strip()
        if not body:
            raise ParseError("empty <|tool_call|> block")
        calls.extend(calls_from_json(body))
    return calls


def parse(text: str) -> list[Call]:
    parts = segments(text, "<|assistant|>", "<|end|>")
    calls: list[Call] = []
    for part in parts if parts is not None else [text]:
        calls.extend(_parse_part(part))
    return calls


def content(text: str) -> str:
    """The text around the calls (``functools[...]`` lists and ``<|tool_call|>`` blocks removed)."""
    s = _TAGGED.sub("", text)
    for start, end in reversed(_functools_spans(s)):
        s = s[:start] + s[end:]
    return s.replace("<|end|>", "").replace("<|endoftext|>", "").strip()
