"""Does a record have the shape its scenario requires? (DESIGN.md, "The seven scenarios")

| scenario | required shape (checked here) |
|---|---|
| single_tool | exactly one call, then a final answer |
| multi_tool_parallel | an assistant turn with two or more calls |
| multi_tool_sequential | two or more calls over two or more turns (that later calls use earlier results is the grounding check ``unchained_call``) |
| no_tool_needed | tools are offered, none is called |
| error_recovery | a tool result is an error and the assistant goes on; or no call at all (the assistant asks or explains) |
| reasoning_heavy | an assistant reasoning block of at least ``REASONING_MIN_CHARS`` characters |
| complex_multi_step | three or more calls over two or more turns |
"""

from __future__ import annotations

import json
import re
from typing import Any

from toolforge.record import SCENARIOS
from toolforge.validate import jsontext
from toolforge.validate.issues import Issue

REASONING_MIN_CHARS = 120
_ERROR_WORDS = ("error", "exception", "not found", "invalid", "failed", "failure", "unavailable", "denied", "timeout")


_TRANSIENT = re.compile(r"unavailable|time[sd]? ?out|rate[ _-]?limit|too many requests|try again|temporar|overload|"
                        r"busy|\b(?:429|502|503|504)\b|connection (?:reset|refused|error)|network error", re.I)


def is_transient_error(content: str) -> bool:
    """Whether an error result says the service could not answer now (unavailable, timeout, rate limit, 503),
    where the same call again is the right retry, rather than what was wrong with the arguments."""
    return bool(_TRANSIENT.search(content))


def is_error_result(content: str) -> bool:
    """Whether a tool result reports an error (JSON ``error`` key or status, or error text)."""
    text = content.strip()
    try:
        value = jsontext.loads(text)  # json.loads, parsed once per record
    except (json.JSONDecodeError, ValueError):
        value = None
    if isinstance(value, dict):
        if value.get("error") or value.get("errors") or value.get("ok") is False or value.get("success") is False:
            return True
        status = value.get("status")
        return isinstance(status, str) and status.lower() in ("error", "failed", "failure")
    low = text.lower()
    return any(low.startswith(w) for w in _ERROR_WORDS) or "error:" in low


def check_scenario(scenario: Any, shape: Any) -> list[Issue]:
    if scenario not in SCENARIOS:
        return [Issue("scenario_mismatch", "scenario", f"unknown scenario {scenario!r} (one of: {', '.join(SCENARIOS)})")]
    n_calls = shape.n_calls
    turns = shape.call_turns
    bad = []
    if scenario == "single_tool":
        if n_calls != 1:
            bad.append(f"single_tool needs exactly one call, found {n_calls}")
    elif scenario == "multi_tool_parallel":
        if not any(len(calls) >= 2 for _, calls in turns):
            bad.append("multi_tool_parallel needs an assistant turn with two or more calls")
    elif scenario == "multi_tool_sequential":
        if n_calls < 2 or len(turns) < 2:
            bad.append(f"multi_tool_sequential needs two or more calls over two or more turns "
                       f"(found {n_calls} calls in {len(turns)} turns)")
    elif scenario == "no_tool_needed":
        if shape.n_tools == 0:
            bad.append("no_tool_needed records still offer tools (the model must choose not to call one)")
        if n_calls:
            bad.append(f"no_tool_needed must not call a tool, found {n_calls} calls")
    elif scenario == "error_recovery":
        if n_calls and not any(is_error_result(c) for _, c in shape.results):
            bad.append("error_recovery needs a tool result that reports an error (or no call, when the "
                       "assistant asks for the missing input)")
    elif scenario == "reasoning_heavy":
        if shape.max_reasoning < REASONING_MIN_CHARS:
            bad.append(f"reasoning_heavy needs a reasoning block of at least {REASONING_MIN_CHARS} characters "
                       f"(longest: {shape.max_reasoning})")
    elif scenario == "complex_multi_step" and (n_calls < 3 or len(turns) < 2):
        bad.append(f"complex_multi_step needs three or more chained calls over two or more turns "
                   f"(found {n_calls} calls in {len(turns)} turns)")
    return [Issue("scenario_mismatch", "scenario", why) for why in bad]
