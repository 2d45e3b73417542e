"""DeepSeek-V3 tool calling: the full-width-bar tool tokens with a fenced JSON body.

A call is written ``<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME`` then a
```` ```json ```` fence holding the arguments, then ``<｜tool▁call▁end｜>``; calls
of one turn sit between ``<｜tool▁calls▁begin｜>`` and ``<｜tool▁calls▁end｜>``;
results between ``<｜tool▁output▁begin｜>`` and ``<｜tool▁output▁end｜>`` inside
``<｜tool▁outputs▁begin｜>...<｜tool▁outputs▁end｜>``. Tools are described in the
system prompt as vLLM's DeepSeek-V3 example template does. The parser also
reads the V3.1 form ``<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{json}``.
"""

from __future__ import annotations

import re
from typing import Any

from toolforge.formats._common import (
    Call,
    ParseError,
    content_of,
    loads_tolerant,
    message_calls,
    record_dict,
    split_system,
    tojson,
    tool_defs,
)

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"
USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
CALLS_BEGIN = "<｜tool▁calls▁begin｜>"
CALLS_END = "<｜tool▁calls▁end｜>"
CALL_BEGIN = "<｜tool▁call▁begin｜>"
CALL_END = "<｜tool▁call▁end｜>"
SEP = "<｜tool▁sep｜>"
OUTPUTS_BEGIN = "<｜tool▁outputs▁begin｜>"
OUTPUTS_END = "<｜tool▁outputs▁end｜>"
OUTPUT_BEGIN = "<｜tool▁output▁begin｜>"
OUTPUT_END = "<｜tool▁output▁end｜>"


def _tools_block(tools: list[dict[str, Any]]) -> str:
    out = "\n\n## Tools\n\n### Function\n\nYou have the following functions available:\n\n"
    for t in tools:
        fn = t["function"]
        out += "- `" + fn["name"] + "`:\n```json\n" + tojson(fn) + "\n```\n"
    return out


def render(record: Any, *, add_generation_prompt: bool = False) -> str:
    d = record_dict(record)
    system, rest = split_system(d["messages"])
    tools = tool_defs(d)
    out = [BOS, (system or "") + (_tools_block(tools) if tools else "")]
    prev = None
    for i, m in enumerate(rest):
        role = m["role"]
        if role == "user":
            out.append(USER + content_of(m))
        elif role == "assistant":
            prefix = "" if prev == "tool" else ASSISTANT
            calls = message_calls(m)
            if calls:
                body = "\n".join(
                    CALL_BEGIN + "function" + SEP + c["name"] + "\n```json\n" + tojson(c["arguments"]) + "\n```" + CALL_END
                    for c in calls)
                out.append(prefix + content_of(m) + CALLS_BEGIN + body + CALLS_END + EOS)
            else:
                out.append(prefix + content_of(m) + EOS)
        elif role == "tool":
            first = prev != "tool"
            out.append((OUTPUTS_BEGIN if first else "\n") + OUTPUT_BEGIN + content_of(m) + OUTPUT_END)
            if i == len(rest) - 1 or rest[i + 1]["role"] != "tool":
                out.append(OUTPUTS_END)
        prev = role
    if add_generation_prompt:
        out.append(ASSISTANT)
    return "".join(out)


_FENCED = re.compile(r"```(?:json)?\s*(.*?)\s*(?:```|\Z)", re.S)
_OUTPUTS = re.compile(re.escape(OUTPUTS_BEGIN) + r".*?(?:" + re.escape(OUTPUTS_END) + r"|\Z)", re.S)


def _one(body: str) -> Call:
    if SEP not in body:
        raise ParseError(f"tool call without {SEP}: {body[:80]!r}")
    head, tail = body.split(SEP, 1)
    head = head.strip()
    if head in ("function", ""):  # V3: type<sep>name\n```json ...```
        name, _, rest = tail.partition("\n")
        name = name.strip()
        if "```" not in rest and "{" in name:  # name{json} on one line
            name, brace, more = name.partition("{")
            rest = brace + more + rest
    else:  # V3.1: name<sep>{json}
        name, rest = head, tail
    if not name:
        raise ParseError("tool call without a name")
    m = _FENCED.search(rest)
    raw = m.group(1) if m else rest
    try:
        args = loads_tolerant(raw) if raw.strip() else {}
    except ValueError:
        raise ParseError(f"arguments of {name} are not JSON") from None
    if not isinstance(args, dict):
        raise ParseError(f"arguments of {name} are not an object")
    return {"name": name.strip(), "arguments": args}


def parse(text: str) -> list[Call]:
    s = _OUTPUTS.sub("", text)
    calls: list[Call] = []
    for chunk in s.split(CALL_BEGIN)[1:]:
        body = re.split("|".join(re.escape(t) for t in (CALL_END, CALLS_END, EOS, USER)), chunk, maxsplit=1)[0]
        calls.append(_one(body))
    return calls
