"""LFM2 (Liquid AI) tool calling: ``<|tool_call_start|>[f(a=1)]<|tool_call_end|>``.

Rendered as the LFM2 chat template writes it: ChatML turns after
``<|startoftext|>``; the tools as a JSON list between ``<|tool_list_start|>``
and ``<|tool_list_end|>`` after "List of tools: " in the system turn; calls as
a Pythonic list between the tool-call tokens at the start of the assistant
content; results in ``tool`` turns between ``<|tool_response_start|>`` and
``<|tool_response_end|>``.
"""

from __future__ import annotations

import re
from typing import Any

from toolforge.formats._common import (
    Call,
    ParseError,
    calls_from_json,
    content_of,
    message_calls,
    parse_pythonic,
    pythonic_list,
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
    sys_text = system or ""
    if tools:
        sys_text += ("\n" if sys_text else "") + "List of tools: <|tool_list_start|>[" + ", ".join(
            tojson(t) for t in tools) + "]<|tool_list_end|>"
    out = ["<|startoftext|>"]
    if sys_text:
        out.append("<|im_start|>system\n" + sys_text + "<|im_end|>\n")
    for m in rest:
        role = m["role"]
        if role == "assistant":
            calls = message_calls(m)
            body = ("<|tool_call_start|>" + pythonic_list(calls) + "<|tool_call_end|>") if calls else ""
            out.append("<|im_start|>assistant\n" + body + content_of(m) + "<|im_end|>\n")
        elif role == "tool":
            out.append("<|im_start|>tool\n<|tool_response_start|>" + content_of(m) + "<|tool_response_end|><|im_end|>\n")
        else:
            out.append(f"<|im_start|>{role}\n" + content_of(m) + "<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


_CALL = re.compile(r"<\|tool_call_start\|>(.*?)(?:<\|tool_call_end\|>|<\|im_end\|>|\Z)", re.S)


def parse(text: str) -> list[Call]:
    parts = segments(text, "<|im_start|>assistant", "<|im_end|>")
    calls: list[Call] = []
    for part in parts if parts is not None else [text]:
        for m in _CALL.finditer(part):
            body = m.group(1).strip()
            if not body:
                raise ParseError("empty tool call block")
            if body.startswith("[{") or body.startswith("{"):
                calls.extend(calls_from_json(body))  # LFM2 may be prompted to answer in JSON
            else:
                calls.extend(parse_pythonic(body))
    return calls


def content(text: str) -> str:
    """The text around the calls (the tool-call token blocks removed)."""
    return _CALL.sub("", text).replace("<|im_end|>", "").strip()
