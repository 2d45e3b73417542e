"""Pythonic tool calling (Llama 3.2 / Llama 4 pythonic, ToolACE): ``[f(a=1), g(b="x")]``.

Rendered in Llama 3 turns the way vLLM's Llama 3.2 pythonic example template
does: ``Environment: ipython``, the instruction and the function list in the
system turn (with that template's default system prompt when the record has
none), a call turn as the Python list of calls only, tool results in
``ipython`` turns as ``{"output": ...}``. One deliberate difference: argument
values are Python literals (strings quoted), where that template writes them
with ``%s`` (strings unquoted), which no parser can read back. Parsing uses ``ast.parse`` and accepts literal
arguments only (never evaluates anything).
"""

from __future__ import annotations

from typing import Any

from toolforge.formats._common import (
    Call,
    balanced_prefix,
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
from toolforge.formats.llama3_json import DATE_STRING, _header

INSTRUCTION = (
    "You have access to the following functions. To call functions, please respond with a python list "
    "of the calls. Respond in the format [func_name1(params_name1=params_value1, "
    "params_name2=params_value2...), func_name2(params)] Do not use variables.\n\n"
)
DEFAULT_SYSTEM = (
    "You are a helpful assistant with tool calling capabilities. Only reply with a tool call if the "
    "function exists in the library provided by the user. If it doesn't exist, just reply directly in "
    "natural language. When you receive a tool call response, use the output to format an answer to the "
    "original user question."
)


def render(record: Any, *, add_generation_prompt: bool = False) -> str:
    d = record_dict(record)
    system, rest = split_system(d["messages"])
    tools = tool_defs(d)
    out = ["<|begin_of_text|>", _header("system"), "Environment: ipython\n" if tools else "",
           f"Cutting Knowledge Date: December 2023\nToday Date: {DATE_STRING}\n\n"]
    if tools:
        out.append(INSTRUCTION + "".join(tojson(t, indent=4) + "\n\n" for t in tools))
    out.append((system.strip() if system is not None else DEFAULT_SYSTEM) + "<|eot_id|>")
    for m in rest:
        role = m["role"]
        calls = message_calls(m) if role == "assistant" else []
        if calls:  # a call turn is the list of calls only
            out.append(_header("assistant") + pythonic_list(calls) + "<|eot_id|>")
        elif role == "tool":
            out.append(_header("ipython") + tojson({"output": content_of(m)}) + "<|eot_id|>")
        else:
            out.append(_header(role) + content_of(m).strip() + "<|eot_id|>")
    if add_generation_prompt:
        out.append(_header("assistant"))
    return "".join(out)


def _clean(part: str) -> str:
    s = part.replace("<|python_tag|>", "").replace("<|eom_id|>", "").replace("<|eot_id|>", "").strip()
    if s.startswith("```"):
        s = s.strip("`").removeprefix("python").strip()
    return s


def _parse_one(part: str) -> list[Call]:
    s = _clean(part)
    # calls may follow some text: take from the first '[' that opens a call list
    start = _list_start(s)
    if start is None:
        return []
    return parse_pythonic(balanced_prefix(s[start:].strip()))


def content(text: str) -> str:
    """The text around the call list."""
    s = _clean(text)
    start = _list_start(s)
    if start is None:
        return s
    return (s[:start] + s[start:][len(balanced_prefix(s[start:])):]).strip()


def _list_start(s: str) -> int | None:
    import re

    m = re.search(r"\[\s*[A-Za-z_][\w.]*\s*\(", s)
    return m.start() if m else None


def parse(text: str) -> list[Call]:
    parts = segments(text, "<|start_header_id|>assistant<|end_header_id|>", "<|eot_id|>")
    out: list[Call] = []
    for p in parts if parts is not None else [text]:
        out.extend(_parse_one(p))
    return out
