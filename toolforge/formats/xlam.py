"""xLAM (Salesforce) tool calling: the calls as a bare JSON list, possibly in a code fence.

Rendered in ChatML turns as vLLM's xLAM (Qwen) example template does: the
system prompt (or xLAM's default one with its format instruction), each tool
as indented JSON, a call turn as the JSON list ``[{"name": ..., "arguments":
{...}}]`` only, results in ``tool`` turns. The parser reads a JSON list (or one call object), fenced or
not, with text around it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolforge.formats._common import (
    Call,
    ParseError,
    call_from_obj,
    content_of,
    loads_tolerant,
    message_calls,
    raw_decode,
    record_dict,
    segments,
    split_system,
    tojson,
    tool_defs,
)

DEFAULT_SYSTEM = "You are a helpful assistant. You are developed by Salesforce xLAM team."
FORMAT_INSTRUCTION = (
    "You have access to a set of tools. When using tools, make calls in a single JSON array: \n\n"
    '[{"name": "tool_call_name", "arguments": {"arg1": "value1", "arg2": "value2"}}, ... '
    "(additional parallel tool calls as needed)]\n\n"
    "If no tool is suitable, state that explicitly. If the user's input lacks required parameters, ask for "
    "clarification. Do not interpret or respond until tool results are returned. Once they are available, "
    "process them or make additional calls if needed. For tasks that don't require tools, such as casual "
    "conversation or general advice, respond directly in plain text. The available tools are:"
)


def render(record: Any, *, add_generation_prompt: bool = False) -> str:
    d = record_dict(record)
    system, rest = split_system(d["messages"])
    tools = tool_defs(d)
    out = ["<|im_start|>system\n"]
    if system is not None:
        out.append(system.strip() + "\n")
    else:
        out.append(DEFAULT_SYSTEM + "\n" + (FORMAT_INSTRUCTION + "\n\n" if tools else ""))
    out.extend(tojson(t, indent=4) + "\n\n" for t in tools)
    out.append("<|im_end|>\n")
    for m in rest:
        role = m["role"]
        calls = message_calls(m) if role == "assistant" else []
        if role == "tool":
            out.append("<|im_start|>tool\n" + content_of(m) + "<|im_end|>\n")
        elif calls:  # a call turn is the JSON list of calls only
            out.append("<|im_start|>assistant\n" + tojson([{"name": c["name"], "arguments": c["arguments"]}
                                                           for c in calls]) + "<|im_end|>\n")
        else:
            out.append(f"<|im_start|>{role}\n" + content_of(m).strip() + "<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|\Z)", re.S)
_START = re.compile(r"\[\s*\{\s*\"name\"|\{\s*\"name\"")


def _locate(part: str) -> tuple[list[Call], str]:
    """The calls in ``part`` and the text around them."""
    fenced = _FENCE.search(part)
    s = fenced.group(1) if fenced else part
    m = _START.search(s)
    if not m:
        return [], part
    body = s[m.start():]
    try:
        value, end = raw_decode(body)
    except json.JSONDecodeError:
        try:
            value, end = loads_tolerant(body), len(body)
        except ValueError:
            raise ParseError(f"not a JSON list of calls: {body[:80]!r}") from None
    items = value if isinstance(value, list) else [value]
    around = s[:m.start()] + body[end:]
    if fenced:
        around = part[:fenced.start()] + around + part[fenced.end():]
    return [call_from_obj(v) for v in items], around


def _parse_one(part: str) -> list[Call]:
    return _locate(part)[0]


def content(text: str) -> str:
    """The text around the call list (and its code fence)."""
    try:
        around = _locate(text)[1]
    except ParseError:
        around = text
    return around.replace("<|im_end|>", "").strip()


def parse(text: str) -> list[Call]:
    parts = segments(text, "<|im_start|>assistant", "<|im_end|>")
    out: list[Call] = []
    for p in parts if parts is not None else [text]:
        out.extend(_parse_one(p))
    return out
