"""Mistral tool calling: ``[TOOL_CALLS]`` followed by a JSON list (v3) or ``name{json}`` (v11).

Rendered as the Mistral-7B-Instruct-v0.3 template writes a conversation:
``[AVAILABLE_TOOLS] [...][/AVAILABLE_TOOLS]`` before the last user turn, the
system prompt prepended to the user turn only when that turn ends the
conversation (so a finished training conversation carries no system prompt,
exactly as the template renders it), calls as
``[TOOL_CALLS] [{"name": ..., "arguments": ..., "id": ...}]</s>`` with 9-character
call ids, and results as ``[TOOL_RESULTS] {"content": <content as is>, "call_id": ...}[/TOOL_RESULTS]``.
The parser also reads the v11 form ``[TOOL_CALLS]name{json}`` (with or
without ``[ARGS]``), several calls in a row, and text around them.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from toolforge.formats._common import (
    Call,
    ParseError,
    call_from_obj,
    calls_from_json,
    content_of,
    first_json,
    loads_tolerant,
    message_calls,
    raw_decode,
    record_dict,
    split_system,
    tojson,
    tool_defs,
)

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def mistral_call_id(raw: str | None, index: int) -> str:
    """A 9-character alphanumeric id (what Mistral's tokenizer requires), stable for a given raw id."""
    if raw and len(raw) == 9 and raw.isalnum():
        return raw
    h = hashlib.blake2b(f"{raw}|{index}".encode(), digest_size=16).digest()
    return "".join(_ALNUM[b % len(_ALNUM)] for b in h[:9])


def _tool_json(tool: dict[str, Any]) -> str:
    # the v0.3 template writes string fields between quotes as they are, other fields with tojson
    fields = []
    for key, val in tool["function"].items():
        if key == "return":
            continue
        fields.append(f'"{key}": "{val}"' if isinstance(val, str) else f'"{key}": {tojson(val)}')
    return '{"type": "function", "function": {' + ", ".join(fields) + "}}"


def render(record: Any, *, add_generation_prompt: bool = False) -> str:
    d = record_dict(record)
    system, rest = split_system(d["messages"])
    tools = tool_defs(d)
    last_user = max((i for i, m in enumerate(rest) if m["role"] == "user"), default=-1)
    ids: dict[str, str] = {}
    out = ["<s>"]
    n = 0
    for i, m in enumerate(rest):
        role = m["role"]
        if role == "user":
            if tools and i == last_user:
                out.append("[AVAILABLE_TOOLS] [" + ", ".join(_tool_json(t) for t in tools) + "][/AVAILABLE_TOOLS]")
            text = content_of(m)
            if system is not None and i == len(rest) - 1:  # as the template does: only on a final user turn
                text = system + "\n\n" + text
            out.append("[INST] " + text + "[/INST]")
        elif role == "assistant":
            calls = message_calls(m)
            if calls:
                items = []
                for c in calls:
                    cid = mistral_call_id(c.get("id"), n)
                    n += 1
                    if c.get("id"):
                        ids[c["id"]] = cid
                    items.append(tojson({"name": c["name"], "arguments": c["arguments"]})[:-1] + f', "id": "{cid}"}}')
                out.append("[TOOL_CALLS] [" + ", ".join(items) + "]</s>")
            else:
                out.append(" " + content_of(m).strip() + "</s>")
        elif role == "tool":
            cid = ids.get(m.get("tool_call_id") or "", mistral_call_id(m.get("tool_call_id"), -1))
            out.append('[TOOL_RESULTS] {"content": ' + content_of(m) + f', "call_id": "{cid}"}}[/TOOL_RESULTS]')
    return "".join(out)


_BLOCKS = re.compile(r"\[AVAILABLE_TOOLS\].*?\[/AVAILABLE_TOOLS\]|\[TOOL_RESULTS\].*?\[/TOOL_RESULTS\]|\[INST\].*?\[/INST\]", re.S)
_STOP = re.compile(r"</s>|\[INST\]|\[TOOL_RESULTS\]|\[AVAILABLE_TOOLS\]")
_NAME = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*(?:\[CALL_ID\]\s*\w+\s*)?(?:\[ARGS\])?\s*(?=[{\[])")


def _parse_body(body: str) -> tuple[list[Call], str]:
    """The calls at the start of ``body`` and the text after them (content, not calls)."""
    s = body.strip()
    if not s:
        raise ParseError("[TOOL_CALLS] with nothing after it")
    if s[0] in "[{":
        try:  # the v3 list, read strictly; text after it is content
            value, end = raw_decode(s)
        except json.JSONDecodeError:
            return calls_from_json(s), ""  # unterminated or not strict JSON: repaired (noted) or ParseError
        items = value if isinstance(value, list) else [value]
        return [call_from_obj(v) for v in items], s[end:]
    calls: list[Call] = []
    rest = s
    while rest.strip():
        m = _NAME.match(rest)
        if not m:
            if calls:
                break  # text after the calls
            raise ParseError(f"not a Mistral tool call: {rest.strip()[:80]!r}")
        name = m.group(1)
        try:
            args, end = first_json(rest[m.end():])
        except ValueError:
            raise ParseError(f"arguments of {name} are not JSON") from None
        if isinstance(args, str):
            args = loads_tolerant(args)
        if not isinstance(args, dict):
            raise ParseError(f"arguments of {name} are not an object")
        calls.append({"name": name, "arguments": args})
        rest = rest[m.end():][end:]
        rest = rest.lstrip().removeprefix(",")
        rest = rest.lstrip().removeprefix("[TOOL_CALLS]")
    return calls, rest


def _split(text: str) -> tuple[list[Call], list[str]]:
    s = _BLOCKS.sub(" ", text)
    chunks = s.split("[TOOL_CALLS]")
    calls: list[Call] = []
    content = [chunks[0]]
    for chunk in chunks[1:]:
        body, *after = _STOP.split(chunk, 1)
        found, rest = _parse_body(body)
        calls.extend(found)
        content.append(rest)
    return calls, content


def parse(text: str) -> list[Call]:
    return _split(text)[0]


def content(text: str) -> str:
    """The text around the calls: before ``[TOOL_CALLS]`` and after the call list."""
    try:
        parts = _split(text)[1]
    except ParseError:
        parts = [_BLOCKS.sub(" ", text).split("[TOOL_CALLS]")[0]]
    return "".join(_STOP.sub("", p) for p in parts).strip()
