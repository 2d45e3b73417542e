"""Phi-4-mini tool calling: ``functools[{"name": ..., "arguments": {...}}]``.

Rendered as the Phi-4-mini-instruct template does: ``<|role|>content<|end|>``
turns, the tools as a JSON list between ``<|tool|>`` and ``<|/tool|>`` in the
system turn, calls as ``functools[...]`` in the assistant content, tool results
in ``<|tool|>`` turns, ``<|endoftext|>`` at the end unless a generation
prompt is asked for.
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


def parse(text: str) -> list[Call]:
    parts = segments(text, "<|assistant|>", "<|end|>")
    calls: list[Call] = []
    for part in parts if parts is not None else [text]:
        for chunk in _MARK.split(part)[1:]:
            body = chunk.split("<|end|>", 1)[0].split("<|endoftext|>", 1)[0]
            body = balanced_prefix(body)
            if not body.strip():
                raise ParseError("functools with no call list")
            calls.extend(calls_from_json(body))
    return calls

