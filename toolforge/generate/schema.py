"""The JSON Schemas a teacher answers in, derived from the tool subset and the scenario.

One-shot mode: the teacher writes a compact *plan*, which
:mod:`toolforge.generate.parse` turns into a record::

    {"user": "...", "reasoning": "...",                 # reasoning: reasoning_heavy, complex_multi_step
     "turns": [[{"name": ..., "arguments": {...}, "result": {...}}, ...], ...],
     "failed": {...call with an error result...}, "retry": {...},   # error_recovery
     "answer": "..."}

Stepwise mode (:mod:`toolforge.generate.stepwise`) asks for one part at a time:
:func:`request_schema`, :func:`calls_schema`, :func:`result_schema` (the tool
simulator) and :func:`answer_schema`.

- Tool names are an enum: each call is ``anyOf`` one branch per callable tool,
  ``name`` a ``const`` and ``arguments`` that tool's own parameter schema.
  Distractor tools are offered in the record but absent from the schema.
- Call counts are *bounds* from the scenario (:data:`toolforge.generate.plan.SHAPES`):
  parallel is ``minItems: 2`` (two or more), never an exact count, so the
  request decides how many calls it needs.
- Results have named keys: a tool's ``returns`` schema where the catalog gives
  one, else :data:`GENERIC_RESULT`; never free keys.
- Every schema is hardened (:mod:`toolforge.generate.harden`): no control
  characters, every string bounded. Answers are long enough to be whole
  (:data:`ANSWER_MAX`), and the answer prompt asks for whole sentences.
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

USER_MAX = 400
ANSWER_MAX = 1000  # whole answers; llama.cpp's grammar parser refuses (and crashes on) much longer bounds
STRING_MAX = 120
RESULT_STRING_MAX = 200
ARRAY_MAX = 5
REASONING_MIN = 160  # the validators want >= 120 characters for reasoning_heavy
REASONING_MAX = 600
PLAN_MIN = 40
INT_ENUM_MAX = 200  # bounded numbers become enums: grammars cannot express minimum/maximum
URL_PATTERN = r"^https://[a-z0-9]{2,16}\.(com|org|net|io)(/[a-z0-9_-]{1,16}){0,3}$"
EMAIL_PATTERN = r"^[a-z]{2,12}(\.[a-z]{2,12})?@[a-z]{2,12}\.(com|org|net)$"
SAFE_TAIL = "[A-Za-z0-9_./-]{0,40}"

#: a result's shape when the catalog gives none: named keys only (never free keys)
GENERIC_RESULT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"enum": ["ok"]},
        "summary": {"type": "string", "minLength": 2, "maxLength": RESULT_STRING_MAX},
        "value": {"anyOf": [{"type": "string", "maxLength": 80}, {"type": "number"}]},
        "items": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 80}, "maxItems": 5},
    },
    "required": ["status", "summary"],
    "additionalProperties": False,
}
OK_RESULT = GENERIC_RESULT  # the name earlier callers import
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


def result_shape(tool: Tool, returns: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The named result shape of a tool: its catalog ``returns`` schema (hardened), else :data:`GENERIC_RESULT`."""
    from toolforge.generate.harden import harden_schema

    shape = (returns or {}).get(tool.function.name)
    if not isinstance(shape, dict) or shape.get("type") not in (None, "object"):
        return GENERIC_RESULT
    return harden_schema(shape, string_max=RESULT_STRING_MAX)  # type: ignore[no-any-return]


def call_schema(tool: Tool, result: dict[str, Any] | None, returns: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    params = tool.function.parameters or {"type": "object", "properties": {}}
    props: dict[str, Any] = {"name": {"const": tool.function.name}, "arguments": shape_params(params)}
    if result is not None:
        props["result"] = result if result is not GENERIC_RESULT else result_shape(tool, returns)
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def any_call(tools: list[Tool], result: dict[str, Any] | None,
             returns: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    branches = [call_schema(t, result, returns) for t in tools]
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


def _turns(tools: list[Tool], turns: tuple[int, int], calls: tuple[int, int],
           returns: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """Turns within the scenario's bounds: ``turns`` turns of ``calls`` calls each (ranges, not exact)."""
    call = any_call(tools, GENERIC_RESULT, returns)
    turn = {"type": "array", "items": call, "minItems": calls[0], "maxItems": calls[1]}
    return {"type": "array", "items": turn, "minItems": turns[0], "maxItems": turns[1]}


def _bounds(scenario: str, calls_per_turn: list[int] | None) -> tuple[tuple[int, int], tuple[int, int]]:
    from toolforge.generate.plan import SHAPES

    if calls_per_turn:  # the exact-count form of earlier callers: read as lower bounds
        (t_lo, t_hi), (c_lo, c_hi) = SHAPES.get(scenario, ((1, 1), (1, 1)))
        return (len(calls_per_turn), max(len(calls_per_turn), t_hi)), (min(calls_per_turn), max(max(calls_per_turn), c_hi))
    return SHAPES.get(scenario, ((1, 1), (1, 1)))


def plan_schema(scenario: str, callable_tools: list[Tool], *, calls_per_turn: list[int] | None = None,
                recovery: str | None = None, turns: tuple[int, int] | None = None,
                calls: tuple[int, int] | None = None,
                returns: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The one-shot response schema for one request (see the module doc for the plan shape)."""
    from toolforge.generate.harden import harden_schema

    user = {"type": "string", "minLength": 10, "maxLength": USER_MAX}
    answer = {"type": "string", "minLength": 20, "maxLength": ANSWER_MAX}
    props: dict[str, Any] = {"user": user}
    if scenario == "reasoning_heavy":
        props["reasoning"] = {"type": "string", "minLength": REASONING_MIN, "maxLength": REASONING_MAX}
    elif scenario == "complex_multi_step":
        props["reasoning"] = {"type": "string", "minLength": PLAN_MIN, "maxLength": REASONING_MAX}
    if scenario == "error_recovery":
        target = callable_tools[:1]
        props["failed"] = any_call(target, ERROR_RESULT)
        if recovery == "retry":
            props["retry"] = any_call(target, GENERIC_RESULT, returns)
    elif scenario != "no_tool_needed":
        t_b, c_b = _bounds(scenario, calls_per_turn)
        props["turns"] = _turns(callable_tools, turns or t_b, calls or c_b, returns)
    props["answer"] = answer
    schema = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
    return harden_schema(schema)  # type: ignore[no-any-return]


# -- stepwise ---------------------------------------------------------------------------------------
def request_schema() -> dict[str, Any]:
    return {"type": "object", "properties": {"user": {"type": "string", "minLength": 10, "maxLength": USER_MAX}},
            "required": ["user"], "additionalProperties": False}


def calls_schema(tools: list[Tool], calls: tuple[int, int], *, reasoning: tuple[int, int] | None = None,
                 allow_done: bool = False) -> dict[str, Any]:
    """One assistant turn: ``{"reasoning"?, "calls": [...]}``; with ``allow_done`` the turn may be
    ``{"done": true}`` instead (the request needs no more calls)."""
    from toolforge.generate.harden import harden_schema

    props: dict[str, Any] = {}
    if reasoning is not None:
        props["reasoning"] = {"type": "string", "minLength": reasoning[0], "maxLength": reasoning[1]}
    props["calls"] = {"type": "array", "items": any_call(tools, None), "minItems": calls[0], "maxItems": calls[1]}
    turn = {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}
    if allow_done:
        done = {"type": "object", "properties": {"done": {"const": True}}, "required": ["done"],
                "additionalProperties": False}
        return harden_schema({"anyOf": [turn, done]})  # type: ignore[no-any-return]
    return harden_schema(turn)  # type: ignore[no-any-return]


def result_schema(tool: Tool, returns: dict[str, dict[str, Any]] | None = None, *, error: bool = False) -> dict[str, Any]:
    """What the tool simulator answers for one call: the tool's named result shape, or an error."""
    if error:
        return ERROR_RESULT
    return result_shape(tool, returns)


def answer_schema(*, reasoning: tuple[int, int] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if reasoning is not None:
        props["reasoning"] = {"type": "string", "minLength": reasoning[0], "maxLength": reasoning[1]}
    props["answer"] = {"type": "string", "minLength": 20, "maxLength": ANSWER_MAX}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
