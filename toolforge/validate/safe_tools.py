"""Pure-Python implementations of the tools toolforge can run safely.

Only what is listed in :data:`SAFE_TOOLS` is ever executed, and only in the
worker subprocess (:mod:`toolforge.validate.exec_worker`). Each entry has its
own JSON Schema: a call is run only when its arguments validate against it,
and arguments are bound by name. Tools that touch the shell, Python, files,
e-mail or the network are never here. ``calculate`` walks an ``ast`` of
arithmetic (numbers, operators, a few math functions); it never evaluates code.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

MAX_EXPONENT = 10_000
MAX_MAGNITUDE = 1e300


class ToolFailure(Exception):
    """The tool itself reports an error for these arguments (a decidable outcome)."""


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_FUNCS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tan": math.tan, "log": math.log,
    "log10": math.log10, "log2": math.log2, "exp": math.exp, "abs": abs, "round": round,
    "floor": math.floor, "ceil": math.ceil, "min": min, "max": max, "asin": math.asin,
    "acos": math.acos, "atan": math.atan, "radians": math.radians, "degrees": math.degrees,
}
_CONSTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _num(node: ast.AST) -> float | int:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTS:
        return _CONSTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _num(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        a, b = _num(node.left), _num(node.right)
        if isinstance(node.op, ast.Pow) and abs(b) > MAX_EXPONENT:
            raise ToolFailure("exponent too large")
        try:
            r = _BINOPS[type(node.op)](a, b)
        except ZeroDivisionError:
            raise ToolFailure("division by zero") from None
        except OverflowError:
            raise ToolFailure("result too large") from None
        if isinstance(r, complex):
            raise ToolFailure("complex result")
        if abs(r) > MAX_MAGNITUDE:
            raise ToolFailure("result too large")
        return r
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and not node.keywords:
        args = [_num(a) for a in node.args]
        try:
            return _FUNCS[node.func.id](*args)  # type: ignore[no-any-return]
        except (ValueError, TypeError, OverflowError) as exc:
            raise ToolFailure(f"{node.func.id}: {exc}") from None
    raise ToolFailure(f"unsupported expression element: {type(node).__name__}")


def calculate(expression: str, precision: int | None = None) -> dict[str, Any]:
    expr = expression.replace("^", "**").replace("×", "*").replace("÷", "/")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError:
        raise ToolFailure("invalid expression") from None
    value = _num(tree.body)
    if precision is not None:
        value = round(value, precision)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value) if precision in (None, 0) else value
    return {"result": value}


def get_current_datetime(timezone_name: str = "UTC", fmt: str = "iso") -> dict[str, Any]:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        tz = timezone.utc if timezone_name.upper() == "UTC" else ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolFailure(f"unknown time zone {timezone_name!r}") from None
    now = datetime.now(tz)
    value: Any = {"iso": now.isoformat(), "human": now.strftime("%A %d %B %Y, %H:%M"),
                  "unix": int(now.timestamp())}[fmt]
    return {"datetime": value, "timezone": timezone_name}


@dataclass(frozen=True)
class SafeTool:
    name: str
    schema: dict[str, Any]
    run: Callable[[dict[str, Any]], Any]
    deterministic: bool  # whether a stored result can be compared with a fresh run


SAFE_TOOLS: dict[str, SafeTool] = {
    "calculate": SafeTool(
        "calculate",
        {"type": "object", "properties": {"expression": {"type": "string", "minLength": 1, "maxLength": 500},
                                          "precision": {"type": "integer", "minimum": 0, "maximum": 15}},
         "required": ["expression"], "additionalProperties": False},
        lambda a: calculate(expression=a["expression"], precision=a.get("precision")),
        deterministic=True,
    ),
    "get_current_datetime": SafeTool(
        "get_current_datetime",
        {"type": "object", "properties": {"timezone": {"type": "string"},
                                          "format": {"type": "string", "enum": ["iso", "human", "unix"]}},
         "additionalProperties": False},
        lambda a: get_current_datetime(timezone_name=a.get("timezone", "UTC"), fmt=a.get("format", "iso")),
        deterministic=False,
    ),
}

#: names that are never executed, whatever a catalog says about them
NEVER_RUN = frozenset({"execute_python", "shell_command", "read_file", "write_file", "list_directory",
                       "send_email", "http_request", "get_webpage", "web_search", "database_query"})
