"""Llama 3.1 / 3.2 JSON tool calling: ``{"name": ..., "parameters": {...}}``, optional ``<|python_tag|>``.

Rendered as the Llama 3.1 chat template does with its default
``tools_in_user_message``: a system turn with ``Environment: ipython`` (when
tools are offered) and the knowledge/today dates, the
function list and instruction prepended to the first user message, each call
as a JSON object with ``parameters`` (several calls joined with ``; ``, as
vLLM's ``llama3_json`` parser reads them; the template itself allows one), and
tool results in ``ipython`` turns as the template writes them (``content | tojson``).
"""

from __future__ import annotations

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
    unfence,
)

DATE_STRING = "26 Jul 2024"
INSTRUCTION = (
    "Given the following functions, please respond with a JSON for a function call with its proper "
    "arguments that best answers the given prompt.\n\n"
    'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.'
    "Do not use variables.\n\n"
)


def _header(role: str) -> str:
    return f"<|start_header_id|>{role}<|end_header_id|>\n\n"


def render(record: Any, *, add_generation_prompt: bool = False) -> str:
    d = record_dict(record)
    system, rest = split_system(d["messages"])
    tools = tool_defs(d)
    out = ["<|begin_of_text|>", _header("system"), "Environment: ipython\n" if tools else "",
           f"Cutting Knowledge Date: December 2023\nToday Date: {DATE_STRING}\n\n",
           (system or "").strip(), "<|eot_id|>"]
    first_user = True
    for m in rest:
        role = m["role"]
        if role == "user":
            text = content_of(m).strip()
            if tools and first_user:
                text = INSTRUCTION + "".join(tojson(t, indent=4) + "\n\n" for t in tools) + text
            first_user = False
            out.append(_header("user") + text + "<|eot_id|>")
        elif role == "assistant":
            calls = message_calls(m)
            if calls:
                out.append(_header("assistant") + "; ".join(
                    '{"name": "' + c["name"] + '", "parameters": ' + tojson(c["arguments"]) + "}" for c in calls
                ) + "<|eot_id|>")
            else:
                out.append(_header("assistant") + content_of(m).strip() + "<|eot_id|>")
        elif role == "tool":
            # the Llama 3.1 template writes `content | tojson` (a string is iterable in Jinja): a JSON string
            out.append(_header("ipython") + tojson(content_of(m)) + "<|eot_id|>")
    if add_generation_prompt:
        out.append(_header("assistant"))
    return "".join(out)


def _split_objects(text: str) -> list[str]:
    """Top-level JSON objects in ``text`` (separated by ``;``, ``,`` or blanks)."""
    out = []
    depth = 0
    start = None
    quote = False
    esc = False
    for i, ch in enumerate(text):
        if quote:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                quote = False
            continue
        if ch == '"':
            quote = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0 and start is not None:
                out.append(text[start:i + 1])
                start = None
    if start is not None:
        out.append(text[start:])  # unterminated final call
    return out


def _parse_one(part: str) -> list[Call]:
    s = part.replace("<|python_tag|>", " ").replace("<|eom_id|>", "").replace("<|eot_id|>", "")
    s = unfence(s) if "```" in s else s
    stripped = s.strip()
    if stripped.startswith("["):
        try:
            value = loads_tolerant(stripped)
        except ValueError:
            raise ParseError(f"not a JSON list of calls: {stripped[:80]!r}") from None
        return [call_from_obj(v) for v in (value if isinstance(value, list) else [value])]
    calls = []
    call_like = "<|python_tag|>" in part or stripped.startswith("{")
    for obj in _split_objects(s):
        try:
            value = loads_tolerant(obj)
        except ValueError:
            if call_like:
                raise ParseError(f"not a JSON call: {obj[:80]!r}") from None
            continue  # braces in plain answer text
        if isinstance(value, dict) and "name" in value and ("parameters" in value or "arguments" in value):
            calls.append(call_from_obj(value))
        elif "<|python_tag|>" in part:
            raise ParseError(f"not a call object: {obj[:80]!r}")
    return calls


def content(text: str) -> str:
    """The text around the call objects (``<|python_tag|>`` and the calls removed)."""
    s = text.replace("<|python_tag|>", " ").replace("<|eom_id|>", "").replace("<|eot_id|>", "")
    if s.strip().startswith("[") and _parse_one(text):
        return ""
    out = s
    for obj in _split_objects(s):
        try:
            value = loads_tolerant(obj)
        except (ValueError, ParseError):
            continue
        if isinstance(value, dict) and "name" in value and ("parameters" in value or "arguments" in value):
            out = out.replace(obj, "", 1)
    return re.sub(r"(?:^|(?<=\s))[;,](?=\s|$)", "", out).strip()


def parse(text: str) -> list[Call]:
    parts = segments(text, "<|start_header_id|>assistant<|end_header_id|>", "<|eot_id|>")
    out: list[Call] = []
    for p in parts if parts is not None else [text]:
        out.extend(_parse_one(p))
    return out
