"""Hermes-2-Pro / Hermes-3 / Qwen2.5 (and Qwen3) tool calling: ChatML with ``<tool_call>`` JSON.

Rendered the way the Qwen2.5 chat template writes a conversation:
the tools as JSON lines inside ``<tools></tools>`` in the system turn, each call
as ``<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>`` after the
assistant text, and consecutive tool results grouped in one ``user`` turn as
``<tool_response>`` blocks. Reasoning (when present) is written Qwen3-style
as a leading ``<think>`` block.
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
    record_dict,
    segments,
    split_system,
    tojson,
    tool_defs,
)

DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
TOOLS_HEADER = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_FOOTER = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)


def _think(m: dict[str, Any]) -> str:
    r = m.get("reasoning")
    return f"<think>\n{r.strip()}\n</think>\n\n" if isinstance(r, str) and r.strip() else ""


def render(record: Any, *, add_generation_prompt: bool = False) -> str:
    d = record_dict(record)
    system, rest = split_system(d["messages"])
    tools = tool_defs(d)
    out = []
    if tools:
        out.append("<|im_start|>system\n" + (system if system is not None else DEFAULT_SYSTEM) + TOOLS_HEADER)
        for t in tools:
            out.append("\n" + tojson(t))
        out.append(TOOLS_FOOTER + "<|im_end|>\n")
    else:
        out.append("<|im_start|>system\n" + (system if system is not None else DEFAULT_SYSTEM) + "<|im_end|>\n")
    for i, m in enumerate(rest):
        role = m["role"]
        if role == "user":
            out.append("<|im_start|>user\n" + content_of(m) + "<|im_end|>\n")
        elif role == "assistant":
            text = _think(m) + content_of(m)
            calls = message_calls(m)
            out.append("<|im_start|>assistant")
            if text or not calls:
                out.append("\n" + text)
            for c in calls:
                out.append('\n<tool_call>\n{"name": "' + c["name"] + '", "arguments": ' + tojson(c["arguments"]) + "}\n</tool_call>")
            out.append("<|im_end|>\n")
        elif role == "tool":
            if i == 0 or rest[i - 1]["role"] != "tool":
                out.append("<|im_start|>user")
            out.append("\n<tool_response>\n" + content_of(m) + "\n</tool_response>")
            if i == len(rest) - 1 or rest[i + 1]["role"] != "tool":
                out.append("<|im_end|>\n")
        elif role == "system":
            out.append("<|im_start|>system\n" + content_of(m) + "<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.S)


_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S)


def parse(text: str) -> list[Call]:
    text = _THINK.sub("", text)  # a reasoning block may mention the tags without making a call
    parts = segments(text, "<|im_start|>assistant", "<|im_end|>")
    calls: list[Call] = []
    for part in parts if parts is not None else [text]:
        for m in _CALL.finditer(part):
            body = m.group(1).strip()
            if not body:
                raise ParseError("empty <tool_call> block")
            calls.extend(calls_from_json(body))
    return calls


def content(text: str) -> str:
    """The text around the calls (``<tool_call>`` blocks and reasoning removed)."""
    return _CALL.sub("", _THINK.sub("", text)).replace("<|im_end|>", "").strip()
