"""The JSON Schema a teacher answers in, derived from the tool subset and the scenario.

The teacher writes a compact *plan*, which :mod:`toolforge.generate.parse`
turns into a record::

    {"user": "...", "reasoning": "...",                 # reasoning: reasoning_heavy, complex_multi_step
     "turns": [[{"name": ..., "arguments": {...}, "result": {...}}, ...], ...],
     "failed": {...call with an error result...}, "retry": {...},   # error_recovery
     "answer": "..."}

- Tool names are an enum: each call is ``anyOf`` one branch per callable tool,
  ``name`` a ``const`` and ``arguments`` that tool's own parameter schema.
  Distractor tools are offered in the record but absent from the schema.
- Call counts fit the scenario and the sampled number of turns (``minItems`` =
  ``maxItems``).
- Strings and arrays are bounded so that small models cannot loop forever.
- Parameter schemas are *tightened* for the teacher (:func:`shape_params`):
  unanchored patterns anchored, ``uri``/``email`` formats as patterns, small
  integer ranges as enums. The tightened schema only ever accepts a subset of
  what the original accepts, so validation against the catalog's schema (the
  validators) stays the judge. Every schema here compiles to a llama.cpp
  grammar (tested), since the llama.cpp server silently falls back to free
  JSON when it cannot.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from toolforge.record import Tool

USER_MAX = 200
ANSWER_MAX = 240
STRING_MAX = 120
ARRAY_MAX = 5
REASONING_MIN = 160  # the validators want >= 120 characters for reasoning_heavy
REASONING_MAX = 600
PLAN_MIN = 40
INT_ENUM_MAX = 200  # bounded numbers become enums: grammars cannot express minimum/maximum
URL_PATTERN = r"^https://[a-z0-9]{2,16}\.(com|org|net|io)(/[a-z0-9_-]{1,16}){0,3}$"
EMAIL_PATTERN = r"^[a-z]{2,12}(\.[a-z]{2,12})?@[a-z]{2,12}\.(com|org|net)$"
SAFE_TAIL = "[A-Za-z0-9_./-]{0,40}"

RESULT_VALUE = {"anyOf": [{"type": "string", "maxLength": 60}, {"type": "number"}, {"type": "boolean"}]}
OK_RESULT: dict[str, Any] = {"type": "object", "additionalProperties": RESULT_VALUE}
ERROR_RESULT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "pattern": "^[a-z][a-z_]{2,29}$"},
        "message": {"type": "string", "minLength": 5, "maxLength": 120},
    },
    "required": ["error", "message"],
    "additionalProperties": False,
}


def _anchor(pattern: str) -> str:
    """A fully anchored pattern (llama.cpp's converter needs ^...$)."""
    body = pattern[1:] if pattern.startswith("^") else pattern
    if body.endswith("$") and not body.endswith("\\$"):
        return "^" + body
    return "^" + body + SAFE_TAIL + "$"


def _bounded_values(s: dict[str, Any], *, integer: bool) -> list[int | float] | None:
    """The allowed values of a bounded number as a short enum (integers, and halves in small ranges)."""
    import math

    lo = s.get("minimum", s.get("exclusiveMinimum"))
    hi = s.get("maximum", s.get("exclusiveMaximum"))
    if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)) or isinstance(lo, bool) \
            or isinstance(hi, bool) or not 0 <= hi - lo <= INT_ENUM_MAX:
        return None
    step = 1.0 if integer or hi - lo > 20 else 0.5
    values: list[int | float] = []
    x = math.ceil(lo / step) * step
    while x <= hi:
        ok = (x > lo if "exclusiveMinimum" in s and "minimum" not in s else x >= lo) and \
             (x < hi if "exclusiveMaximum" in s and "maximum" not in s else x <= hi)
        if ok:
            values.append(int(x) if float(x).is_integer() else x)
        x += step
    return values or None


def shape_params(schema: Any) -> Any:
    """A tightened copy of a parameter schema for the teacher (see module doc)."""
    if not isinstance(schema, dict):
        return schema
    s = copy.copy(schema)
    s.pop("default", None)
    s.pop("examples", None)
    t = s.get("type")
    if t == "string" and "enum" not in s and "const" not in s:
        fmt = s.get("format")
        if fmt in ("uri", "url") and (not s.get("pattern") or str(s["pattern"]).startswith("^https?://")):
            s["pattern"] = URL_PATTERN
            s.pop("format", None)
        elif fmt == "email" and "pattern" not in s:
            s["pattern"] = EMAIL_PATTERN
            s.pop("format", None)
        elif "pattern" in s:
            s["pattern"] = _anchor(str(s["pattern"]))
        elif fmt not in ("date-time", "date", "time"):
            lo = int(s.get("minLength", 0))
            s["maxLength"] = max(lo, min(int(s.get("maxLength", STRING_MAX)), STRING_MAX))
    elif t in ("integer", "number") and "enum" not in s:
        values = _bounded_values(s, integer=t == "integer")
        if values:
            s = {k: v for k, v in s.items()
                 if k not in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "type")}
            s["enum"] = values
    elif t == "array":
        if "items" in s:
            s["items"] = shape_params(s["items"])
        lo = int(s.get("minItems", 0))
        s["maxItems"] = max(lo, min(int(s.get("maxItems", ARRAY_MAX)), ARRAY_MAX))
    elif t == "object" or "properties" in s:
        if "properties" in s:
            s["properties"] = {k: shape_params(v) for k, v in s["properties"].items()}
        if isinstance(s.get("additionalProperties"), dict):
            s["additionalProperties"] = shape_params(s["additionalProperties"])
    return s


def call_schema(tool: Tool, result: dict[str, Any]) -> dict[str, Any]:
    params = tool.function.parameters or {"type": "object", "properties": {}}
    return {
        "type": "object",
        "properties": {
            "name": {"const": tool.function.name},
            "arguments": shape_params(params),
            "result": result,
        },
        "required": ["name", "arguments", "result"],
        "additionalProperties": False,
    }


def any_call(tools: list[Tool], result: dict[str, Any]) -> dict[str, Any]:
    branches = [call_schema(t, result) for t in tools]
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


def _turns(tools: list[Tool], calls_per_turn: list[int]) -> dict[str, Any]:
    """Turns as a tuple of arrays: turn i has exactly calls_per_turn[i] calls."""
    call = any_call(tools, OK_RESULT)
    turn_schemas = [{"type": "array", "items": call, "minItems": k, "maxItems": k} for k in calls_per_turn]
    if len(set(calls_per_turn)) == 1:
        return {"type": "array", "items": turn_schemas[0], "minItems": len(turn_schemas),
                "maxItems": len(turn_schemas)}
    return {"type": "array", "prefixItems": turn_schemas, "items": False,
            "minItems": len(turn_schemas), "maxItems": len(turn_schemas)}


def plan_schema(scenario: str, callable_tools: list[Tool], *, calls_per_turn: list[int] | None = None,
                recovery: str | None = None) -> dict[str, Any]:
    """The response schema for one request (see the module doc for the plan shape)."""
    user = {"type": "string", "minLength": 10, "maxLength": USER_MAX}
    answer = {"type": "string", "minLength": 2, "maxLength": ANSWER_MAX}
    props: dict[str, Any] = {"user": user}
    if scenario == "reasoning_heavy":
        props["reasoning"] = {"type": "string", "minLength": REASONING_MIN, "maxLength": REASONING_MAX}
    elif scenario == "complex_multi_step":
        props["reasoning"] = {"type": "string", "minLength": PLAN_MIN, "maxLength": REASONING_MAX}
    if scenario == "error_recovery":
        target = callable_tools[:1]
        props["failed"] = any_call(target, ERROR_RESULT)
        if recovery == "retry":
            props["retry"] = any_call(target, OK_RESULT)
    elif scenario != "no_tool_needed":
        props["turns"] = _turns(callable_tools, calls_per_turn or [1])
    props["answer"] = answer
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
