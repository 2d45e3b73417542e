"""DeepSeek-V3 tool calling: the full-width-bar tool tokens with a fenced JSON body.

A call is written ``<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME`` then a
```` ```json ```` fence holding the arguments, then ``<｜tool▁call▁end｜>``; calls
of one turn sit between ``<｜tool▁calls▁begin｜>`` and ``<｜tool▁calls▁end｜>``;
results between ``<｜tool▁output▁begin｜>`` and ``<｜tool▁output▁end｜>`` inside
``<｜tool▁outputs▁begin｜>...<｜tool▁outputs▁end｜>``. The layout is that of vLLM's
DeepSeek-V3 tool example template (tools as JSON lines in ``<tools>`` in the
system prompt, ``<｜Assistant｜>`` right after each user turn), without the stray
blank lines and indentation that template's whitespace leaves in its output. The
parser also reads the V3.1 form ``<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{json}``.
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
    return (
        "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
        + "".join("\n" + tojson(t) for t in tools)
        + "\n</tools>\n\n"
        + "For function call returns, you should first print " + CALLS_BEGIN + "\n\n"
        + "For each function call, you should return object like:\n"
        + CALL_BEGIN + "function" + SEP + "<function_name>\n```json\n<function_arguments_in_json_format>\n```"
        + CALL_END + "\n\n"
        + "At the end of function call returns, you should print " + CALLS_END + EOS
    )


def render(record: Any, *, add_generation_prompt: bool = False) -> str:
    d = record_dict(record)
    msgs = d["messages"]
    tools = tool_defs(d)
    system = "\n\n".join(content_of(m) for m in msgs if m["role"] == "system")
    out = [BOS, system + (_tools_block(tools) if tools else "")]
    in_outputs = False     # inside a <｜tool▁outputs▁begin｜> block
    outputs_open = False   # the next result opens a new block
    last_user = False
    for m in msgs:
        role = m["role"]
        if role == "user":
            in_outputs, last_user = False, True
            out.append(USER + content_of(m) + ASSISTANT)
        elif role == "assistant":
            last_user = False
            calls = message_calls(m)
            if calls:
                if in_outputs:
                    out.append(OUTPUTS_END)
                in_outputs, outputs_open = False, True
                body = "\n".join(
                    CALL_BEGIN + "function" + SEP + c["name"] + "\n```json\n" + tojson(c["arguments"]) + "\n```" + CALL_END
                    for c in calls)
                out.append(content_of(m) + CALLS_BEGIN + body + CALLS_END + EOS)
            else:
                out.append((OUTPUTS_END if in_outputs else "") + content_of(m) + EOS)
                in_outputs = False
        elif role == "tool":
            last_user = False
            first = not in_outputs and outputs_open
            out.append((OUTPUTS_BEGIN if first else "\n") + OUTPUT_BEGIN + content_of(m) + OUTPUT_END)
            in_outputs, outputs_open = True, False
    if in_outputs:
        out.append(OUTPUTS_END)
    if add_generation_prompt and not last_user and not in_outputs:
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
    # a whole rendered conversation: calls come after the first user turn (the system prompt shows an example)
    s = _OUTPUTS.sub("", text.split(USER, 1)[1] if USER in text else text)
    calls: list[Call] = []
    for chunk in s.split(CALL_BEGIN)[1:]:
        body = re.split("|".join(re.escape(t) for t in (CALL_END, CALLS_END, EOS, USER)), chunk, maxsplit=1)[0]
        calls.append(_one(body))
    return calls


_CALL_BLOCKS = re.compile("|".join([
    re.escape(CALLS_BEGIN) + r".*?(?:" + re.escape(CALLS_END) + r"|\Z)",
    re.escape(CALL_BEGIN) + r".*?(?:" + re.escape(CALL_END) + r"|\Z)",
]), re.S)


def content(text: str) -> str:
    """The text around the calls (the tool-call token blocks removed)."""
    return _CALL_BLOCKS.sub("", text).replace(EOS, "").strip()
