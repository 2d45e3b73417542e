"""xLAM (Salesforce) tool calling: the calls as a bare JSON list, possibly in a code fence.

Rendered in ChatML turns like the xLAM-2 ``-fc-r`` models: the tools as a JSON
list and the format instruction in the system turn, calls as
``[{"name": ..., "arguments": {...}}]`` in the assistant content, results in
``tool`` turns. The parser reads a JSON list (or one call object), fenced or
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
    record_dict,
    segments,
    split_system,
    tojson,
    tool_defs,
)

FORMAT_INSTRUCTION = (
    "\n\nYou have access to the following tools:\n{tools}\n\n"
    "If you decide to invoke one or more functions, reply with a JSON list of calls only, "
    'in the format [{{"name": "func_name", "arguments": {{"arg": "value"}}}}].'
)


def render(record: Any, *, add_generation_prompt: bool = False) -> str:
    d = record_dict(record)
    system, rest = split_system(d["messages"])
    tools = tool_defs(d)
    sys_text = system or ""
    if tools:
        sys_text += FORMAT_INSTRUCTION.format(tools=tojson([t["function"] for t in tools]))
    out = []
    if sys_text:
        out.append("<|im_start|>system\n" + sys_text + "<|im_end|>\n")
    for m in rest:
        role = m["role"]
        if role == "assistant":
            calls = message_calls(m)
            text = content_of(m)
            if calls:
                text = (text + "\n" if text else "") + tojson([{"name": c["name"], "arguments": c["arguments"]} for c in calls])
            out.append("<|im_start|>assistant\n" + text + "<|im_end|>\n")
        else:
            out.append(f"<|im_start|>{role}\n" + content_of(m) + "<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|\Z)", re.S)
_START = re.compile(r"\[\s*\{\s*\"name\"|\{\s*\"name\"")


def _parse_one(part: str) -> list[Call]:
    fenced = _FENCE.search(part)
    s = fenced.group(1) if fenced else part
    m = _START.search(s)
    if not m:
        return []
    body = s[m.start():]
    try:
        value, end = json.JSONDecoder().raw_decode(body)
    except json.JSONDecodeError:
        try:
            value = loads_tolerant(body)
        except ValueError:
            raise ParseError(f"not a JSON list of calls: {body[:80]!r}") from None
    items = value if isinstance(value, list) else [value]
    return [call_from_obj(v) for v in items]


def parse(text: str) -> list[Call]:
    parts = segments(text, "<|im_start|>assistant", "<|im_end|>")
    out: list[Call] = []
    for p in parts if parts is not None else [text]:
        out.extend(_parse_one(p))
    return out
