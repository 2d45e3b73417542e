"""Scenario inference from a conversation's shape, for records that do not state one.

The rules, in order (the first that applies wins):

1. no assistant message calls a tool -> ``no_tool_needed``
2. a tool result reports an error and the assistant speaks again -> ``error_recovery``
3. an assistant message before the first call carries a long reasoning block
   (at least ``REASONING_CHARS`` characters) -> ``reasoning_heavy``
4. all calls are in one assistant turn: one call -> ``single_tool``,
   two or more -> ``multi_tool_parallel``
5. calls over two or more turns: three or more calls -> ``complex_multi_step``,
   else ``multi_tool_sequential``
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolforge.record import Record

REASONING_CHARS = 400
_ERROR_TEXT = re.compile(r"^\s*(error|exception|traceback|failed|invalid)\b", re.IGNORECASE)


def is_error_result(content: str | None) -> bool:
    """Whether a tool result reads as an error (an ``error`` key, or text that starts like one)."""
    if not content:
        return False
    try:
        value: Any = json.loads(content)
    except (json.JSONDecodeError, ValueError):
        return bool(_ERROR_TEXT.match(content))
    if isinstance(value, dict):
        return bool(value.get("error")) or value.get("status") in ("error", "failed")
    return False


def infer_scenario(record: Record) -> str:
    msgs = record.messages
    call_turns = [len(m.tool_calls or []) for m in msgs if m.role == "assistant" and m.tool_calls]
    total = sum(call_turns)
    if total == 0:
        return "no_tool_needed"
    for i, m in enumerate(msgs):
        if m.role == "tool" and is_error_result(m.content) and any(x.role == "assistant" for x in msgs[i + 1:]):
            return "error_recovery"
    for m in msgs:
        if m.role != "assistant":
            continue
        if m.reasoning and len(m.reasoning) >= REASONING_CHARS:
            return "reasoning_heavy"
        if m.tool_calls:
            break
    if len(call_turns) == 1:
        return "single_tool" if total == 1 else "multi_tool_parallel"
    return "complex_multi_step" if total >= 3 else "multi_tool_sequential"
