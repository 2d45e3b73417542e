"""Helpers shared by the family renderers and parsers.

Parsers treat model output as data: JSON goes through ``json``, Python-style
calls through ``ast.parse`` (a parser, not an evaluator) and a walk that
accepts literals only. Nothing here calls ``eval`` or ``exec``.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from toolforge.errors import InputError
from toolforge.io import safejson

Call = dict[str, Any]

#: longest model output a parser reads (a longer one is refused with ``too_large``)
MAX_OUTPUT_CHARS = 1_000_000


class ParseError(InputError):
    """Model output has call syntax that cannot be read as calls.

    ``code`` says why: ``parse_error`` (syntax), ``json_invalid`` (NaN/Infinity, not JSON),
    ``too_deep``, ``too_large``, or ``repaired`` (readable only after repair, raised by
    strict parsing).
    """

    def __init__(self, message: str, *, hint: str | None = None, code: str = "parse_error") -> None:
        super().__init__(message, hint=hint)
        self.code = code


# -- repair tracking -----------------------------------------------------------------------------
# The shared readers below note every repair they make (closing an unterminated fragment,
# dropping trailing commas, reading a Python literal as JSON) in the list of the innermost
# `tracking()` block, so a caller can tell a strict reading from a repaired one without each
# family parser threading a flag through.
_REPAIRS: ContextVar[list[str] | None] = ContextVar("toolforge_parse_repairs", default=None)


def note_repair(what: str) -> None:
    """Record that the text being parsed was repaired (``what`` says how)."""
    repairs = _REPAIRS.get()
    if repairs is not None and what not in repairs:
        repairs.append(what)


@contextmanager
def tracking() -> Iterator[list[str]]:
    """Collect the repairs made by parsing inside the block."""
    repairs: list[str] = []
    token = _REPAIRS.set(repairs)
    try:
        yield repairs
    finally:
        _REPAIRS.reset(token)


def guard_size(text: str) -> None:
    if len(text) > MAX_OUTPUT_CHARS:
        raise ParseError(f"model output is {len(text)} characters, over the {MAX_OUTPUT_CHARS} limit [too_large]",
                         code="too_large")


def json_strict(s: str) -> Any:
    """Strict JSON through the safe reader; a refusal for depth, size or NaN becomes a ParseError."""
    try:
        return safejson.loads(s)
    except safejson.JSONLimitError as exc:
        if exc.syntax:
            raise  # plain bad syntax: a caller may try a repair
        raise ParseError(str(exc), code=exc.code) from None  # NaN/Infinity, depth, size: never repaired


# -- rendering helpers ---------------------------------------------------------------------------
def tojson(value: Any, indent: int | None = None) -> str:
    """JSON the way Hugging Face chat templates' ``tojson`` writes it (unicode kept, `, ` and `: `)."""
    return json.dumps(value, ensure_ascii=False, indent=indent)


def py_literal(value: Any) -> str:
    """A Python literal for a JSON value (``True``/``False``/``None``, JSON-style strings)."""
    if value is True:
        return "True"
    if value is False:
        return "False"
    if value is None:
        return "None"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def pythonic_call(name: str, args: dict[str, Any]) -> str:
    return f"{name}(" + ", ".join(f"{k}={py_literal(v)}" for k, v in args.items()) + ")"


def pythonic_list(calls: list[Call]) -> str:
    return "[" + ", ".join(pythonic_call(c["name"], c["arguments"]) for c in calls) + "]"


def record_dict(record: Any) -> dict[str, Any]:
    """A Record (or a record dict) as a plain dict with tools and messages."""
    if hasattr(record, "to_dict") and not isinstance(record, dict):
        return record.to_dict()
    if isinstance(record, dict):
        return record
    raise TypeError("render needs a Record or a record dict")


def message_calls(m: dict[str, Any]) -> list[Call]:
    out = []
    for c in m.get("tool_calls") or []:
        fn = c.get("function", c)
        args = fn.get("arguments", {})
        if isinstance(args, str):
            args = safejson.loads(args) if args.strip() else {}
        out.append({"name": fn["name"], "arguments": args, "id": c.get("id")})
    return out


def tool_defs(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [t if "function" in t else {"type": "function", "function": t} for t in d.get("tools") or []]


def split_system(messages: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    if messages and messages[0].get("role") == "system":
        return messages[0].get("content") or "", messages[1:]
    return None, messages


def content_of(m: dict[str, Any]) -> str:
    c = m.get("content")
    return c if isinstance(c, str) else ""


# -- parsing helpers -----------------------------------------------------------------------------
def segments(text: str, start: str, end: str) -> list[str] | None:
    """The parts of ``text`` between each ``start`` and the next ``end`` (or the end of text).

    None when ``start`` does not occur (the text is bare model output).
    """
    if start not in text:
        return None
    out = []
    for chunk in text.split(start)[1:]:
        out.append(chunk.split(end, 1)[0])
    return out


def _outside_strings(s: str, state: dict[str, str | None]) -> Iterator[tuple[int, str]]:
    """``(index, char)`` for every character of ``s`` outside a quoted string (both quote kinds,
    backslash escapes respected). ``state["quote"]`` is left as the quote still open at the end."""
    quote: str | None = None
    esc = False
    for i, ch in enumerate(s):
        if quote:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
            continue
        yield i, ch
    state["quote"] = quote


def close_brackets(s: str) -> str:
    """Append the closers an unterminated JSON/Python fragment is missing (strings included)."""
    stack: list[str] = []
    state: dict[str, str | None] = {}
    for _, ch in _outside_strings(s, state):
        if ch in "[{(":
            stack.append({"[": "]", "{": "}", "(": ")"}[ch])
        elif ch in "]})" and stack and stack[-1] == ch:
            stack.pop()
    quote = state["quote"]
    tail = (quote or "") + "".join(reversed(stack))
    return s.rstrip().rstrip(",") + tail if not quote else s + tail


def balanced_prefix(s: str) -> str:
    """``s`` up to the bracket that closes its first bracket (quotes of both kinds respected), or all of it."""
    depth = 0
    for i, ch in _outside_strings(s, {}):
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
            if depth == 0:
                return s[: i + 1]
    return s


_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _strip_trailing_commas(s: str) -> str:
    # only outside strings: walk and rebuild
    out = []
    quote = False
    esc = False
    i = 0
    while i < len(s):
        ch = s[i]
        if quote:
            out.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
            out.append(ch)
        elif ch == ",":
            j = i + 1
            while j < len(s) and s[j].isspace():
                j += 1
            if j < len(s) and s[j] in "}]":
                i += 1
                continue
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def loads_tolerant(s: str) -> Any:
    """JSON, tolerating trailing commas, an unterminated end and Python-style literals.

    Strict JSON first; every fallback is noted as a repair (see :func:`tracking`). NaN,
    Infinity and numbers that overflow to it are refused, never repaired; so is text past
    the depth and size limits (ParseError with that code). Raises ValueError when the text
    cannot be read as a value.
    """
    s = s.strip()
    try:
        return json_strict(s)
    except json.JSONDecodeError:
        pass
    for what, candidate in (("trailing comma", _strip_trailing_commas(s)),
                            ("unterminated JSON closed", _strip_trailing_commas(close_brackets(s)))):
        try:
            value = json_strict(candidate)
        except json.JSONDecodeError:
            continue
        note_repair(what)
        return value
    for what, candidate in (("Python literal read as JSON", s), ("unterminated Python literal closed", close_brackets(s))):
        try:
            value = literal(safe_ast(candidate).body)
        except (SyntaxError, ValueError):
            continue
        note_repair(what)
        return value
    raise ValueError("not a JSON value")


def first_json(s: str) -> tuple[Any, int]:
    """Decode the first JSON value at the start of ``s`` (after blanks); returns (value, end index).

    Falls back to :func:`loads_tolerant` on the whole rest (end = len(s)), a repair.
    """
    i = len(s) - len(s.lstrip())
    try:
        return raw_decode(s, i)
    except json.JSONDecodeError:
        return loads_tolerant(s[i:]), len(s)


def raw_decode(s: str, i: int = 0) -> tuple[Any, int]:
    """``JSONDecoder.raw_decode`` with the safe reader's rules: NaN/Infinity, depth and size refused
    (ParseError with the code); plain bad syntax raises ``json.JSONDecodeError``."""
    guard_size(s)
    try:
        value, end = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float).raw_decode(s, i)
    except (RecursionError, MemoryError):
        raise ParseError(f"JSON nested deeper than {safejson.MAX_DEPTH} levels [too_deep]", code="too_deep") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        raise ParseError(f"{exc} [json_invalid]", code="json_invalid") from None
    try:
        safejson.check_depth(value)
    except safejson.JSONLimitError as exc:
        raise ParseError(str(exc), code=exc.code) from None
    return value, end


def _no_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"not JSON: {text[:40]} overflows to Infinity")
    return value


_NAMES = {"True": True, "False": False, "None": None, "true": True, "false": False, "null": None}


def literal(node: ast.AST) -> Any:
    """The value of a literal expression node; anything else raises ValueError.

    Numbers must be JSON numbers: ``1e999`` (Infinity) and integers too long to write are refused.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, float) and not math.isfinite(node.value):
        raise ValueError(f"{node.value} (a number out of range) is not a JSON number")
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool) \
            and node.value.bit_length() > 14_000:  # past Python's 4,300-digit int-to-text limit
        raise ValueError("an integer too long to write as JSON")
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)) or (
            isinstance(node, ast.Constant) and node.value is None):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = literal(node.operand)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v if isinstance(node.op, ast.USub) else v
        raise ValueError("sign on a non-number")
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                raise ValueError("** in a dict literal")
            key = literal(k)
            out[key if isinstance(key, str) else json.dumps(key)] = literal(v)
        return out
    raise ValueError(f"not a literal: {type(node).__name__}")


MAX_NAME_CHARS = 256
_UNARY_RUN = re.compile(rf"(?:[-+~]\s*){{{safejson.MAX_DEPTH + 1}}}|(?:\bnot\s+){{{safejson.MAX_DEPTH + 1}}}")


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):  # a loop: a long attribute chain must not recurse
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise ValueError("a call target must be a name")
    parts.append(node.id)
    name = ".".join(reversed(parts))
    if len(name) > MAX_NAME_CHARS:
        raise ValueError(f"a call name longer than {MAX_NAME_CHARS} characters")
    return name


def _nesting(s: str) -> int:
    depth = deepest = 0
    for _, ch in _outside_strings(s, {}):
        if ch in "[{(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]})":
            depth -= 1
    return deepest


def safe_ast(source: str) -> ast.Expression:
    """``ast.parse(source, mode="eval")`` behind limits: ``ast.parse`` itself recurses (deep brackets,
    long operator or attribute chains), so length, bracket depth and unary-operator runs are
    checked first, and RecursionError/MemoryError at this boundary become a ParseError. Raises
    SyntaxError for text that is not Python."""
    if len(source) > MAX_OUTPUT_CHARS:
        raise ParseError(f"call text is {len(source)} characters, over the {MAX_OUTPUT_CHARS} limit [too_large]",
                         code="too_large")
    if _UNARY_RUN.search(source):
        raise ParseError(f"more than {safejson.MAX_DEPTH} unary operators in a row [too_deep]", code="too_deep")
    if _nesting(source) > safejson.MAX_DEPTH:
        raise ParseError(f"calls nested deeper than {safejson.MAX_DEPTH} levels [too_deep]", code="too_deep")
    try:
        return ast.parse(source, mode="eval")
    except (RecursionError, MemoryError):
        raise ParseError("call text too deeply nested to parse [too_deep]", code="too_deep") from None
    except ValueError as exc:  # null bytes, over-long int literals
        raise SyntaxError(str(exc)) from None


def parse_pythonic(text: str) -> list[Call]:
    """Calls from ``[f(a=1), g(b="x")]`` (or a bare ``f(a=1)``), tolerant of an unterminated end
    (closing it is noted as a repair)."""
    s = text.strip()
    if not s:
        return []
    tree = None
    for repaired, candidate in ((False, s), (True, close_brackets(s)), (False, "[" + s + "]"),
                                (True, close_brackets("[" + s))):
        try:
            tree = safe_ast(candidate)
        except SyntaxError:
            continue
        if repaired and candidate != s and candidate != "[" + s + "]":
            note_repair("unterminated call list closed")
        break
    if tree is None:
        raise ParseError(f"not a Python list of calls: {s[:80]!r}")
    body = tree.body
    elts = body.elts if isinstance(body, (ast.List, ast.Tuple)) else [body]
    calls = []
    for e in elts:
        if not isinstance(e, ast.Call):
            raise ParseError(f"not a call: {type(e).__name__}")
        try:
            name = _dotted(e.func)
            if e.args:
                raise ValueError("positional arguments (bind by name only)")
            args = {}
            for kw in e.keywords:
                if kw.arg is None:
                    raise ValueError("**kwargs")
                args[kw.arg] = literal(kw.value)
        except ValueError as exc:
            if "JSON" in str(exc):
                raise ParseError(f"call {_target(e.func)}: {exc} [json_invalid]", code="json_invalid") from None
            raise ParseError(f"call {_target(e.func)}: {exc}") from None
        calls.append({"name": name, "arguments": args})
    return calls


def _target(node: ast.AST) -> str:
    try:
        return _dotted(node)[:60]
    except ValueError:
        return type(node).__name__


def call_from_obj(obj: Any, args_keys: tuple[str, ...] = ("arguments", "parameters")) -> Call:
    """``{"name": ..., "arguments"|"parameters": {...}}`` (arguments may be a JSON string) as a call."""
    if not isinstance(obj, dict):
        raise ParseError(f"a call is a JSON object, got {type(obj).__name__}")
    if isinstance(obj.get("function"), dict) and "name" not in obj:
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise ParseError("a call has no name")
    args: Any = {}
    for k in args_keys:
        if k in obj:
            args = obj[k]
            break
    if isinstance(args, str):
        try:
            args = loads_tolerant(args) if args.strip() else {}
        except ValueError:
            raise ParseError(f"arguments of {name} are not JSON") from None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ParseError(f"arguments of {name} are not an object")
    return {"name": name, "arguments": args}


def calls_from_json(body: str, args_keys: tuple[str, ...] = ("arguments", "parameters")) -> list[Call]:
    """Calls from a JSON object or list of objects (tolerant)."""
    try:
        value = loads_tolerant(body)
    except ValueError:
        raise ParseError(f"not JSON: {body.strip()[:80]!r}") from None
    items = value if isinstance(value, list) else [value]
    return [call_from_obj(v, args_keys) for v in items]


_FENCE = re.compile(r"```(?:json|JSON|python)?\s*\n?(.*?)(?:```|\Z)", re.S)


def unfence(text: str) -> str:
    m = _FENCE.search(text)
    return m.group(1) if m else text


def collect(parts: list[str] | None, whole: str, parse_one: Callable[[str], list[Call]]) -> list[Call]:
    out: list[Call] = []
    for p in parts if parts is not None else [whole]:
        out.extend(parse_one(p))
    return out
