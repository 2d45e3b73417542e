"""xLAM function-calling data (Salesforce ``xlam-function-calling-60k`` and its relatives).

A line is ``{"id", "query", "tools", "answers"}`` where ``tools`` and ``answers`` are JSON
(strings in the published file, or already decoded). Tools write parameters as
``{param: {"type": "List[int]", "description": ..., "default": ...}}`` with Python type
strings: ``str``, ``int``, ``float``, ``bool``, ``List[X]``, ``Dict[K, V]``, ``Tuple[...]``,
``Set[X]``, ``Union[...]``, ``Literal[...]``, ``Optional[X]``, ``X | None`` and
``"X, optional"``. Each maps to JSON Schema; a parameter is required unless its type says
it is optional or it has a default (kept as ``default``). A type name with no JSON Schema equivalent (``Callable``,
``np.ndarray``) is left unconstrained and named in ``meta.import_notes``.

The record is the query and one assistant turn with the answers as calls (no tool
results exist in the source, so it is a call-only record: a reference for the
tool-selection decision, ``toolforge eval --first-turn-only``). Empty ``answers``
(xLAM's irrelevance data) become a ``no_tool_needed`` record whose assistant says no
tool applies (a fixed text, marked ``meta.synthetic_answer``).
"""

from __future__ import annotations

import ast
from typing import Any

from toolforge.importers import ConversionError
from toolforge.record import Record

_BASE: dict[str, dict[str, Any]] = {
    "str": {"type": "string"}, "string": {"type": "string"}, "text": {"type": "string"},
    "int": {"type": "integer"}, "integer": {"type": "integer"},
    "float": {"type": "number"}, "number": {"type": "number"}, "double": {"type": "number"},
    "bool": {"type": "boolean"}, "boolean": {"type": "boolean"},
    "list": {"type": "array"}, "array": {"type": "array"}, "tuple": {"type": "array"},
    "set": {"type": "array", "uniqueItems": True}, "sequence": {"type": "array"}, "iterable": {"type": "array"},
    "dict": {"type": "object"}, "object": {"type": "object"}, "json": {"type": "object"}, "mapping": {"type": "object"},
    "any": {}, "none": {"type": "null"}, "null": {"type": "null"}, "nonetype": {"type": "null"},
}
_ARRAYS = {"list", "sequence", "iterable", "set", "frozenset"}
_DICTS = {"dict", "mapping"}


def _split_top(s: str, sep: str = ",") -> list[str]:
    parts, depth, cur = [], 0, []
    quote: str | None = None
    for ch in s:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


MAX_TYPE_DEPTH = 16   # List[List[...]] nesting accepted in a type string
MAX_TYPE_CHARS = 2000


def parse_type(text: str, unknown: list[str], _depth: int = 0) -> tuple[dict[str, Any], bool]:
    """JSON Schema for a Python type string, and whether it admits None (optional).

    A type string nested deeper than :data:`MAX_TYPE_DEPTH` or longer than
    :data:`MAX_TYPE_CHARS` raises ValueError (``too_deep``/``too_large``) instead of recursing.
    """
    if _depth > MAX_TYPE_DEPTH:
        raise ValueError(f"type string nested deeper than {MAX_TYPE_DEPTH} levels [too_deep]")
    if len(text) > MAX_TYPE_CHARS:
        raise ValueError(f"type string longer than {MAX_TYPE_CHARS} characters [too_large]")
    s = text.strip()
    optional = False
    low = s.lower()
    for suffix in (", optional", ",optional", " optional"):
        if low.endswith(suffix):
            s, optional = s[: -len(suffix)].strip(), True
            low = s.lower()
            break
    alts = _split_top(s, "|")
    if len(alts) > 1:
        return _union(alts, unknown, optional, _depth)
    s = s.removeprefix("typing.")
    if "[" in s and s.endswith("]"):
        head, inner = s[: s.index("[")].strip(), s[s.index("[") + 1: -1]
        h = head.lower()
        args = _split_top(inner)
        if h == "optional":
            schema, _ = parse_type(inner, unknown, _depth + 1)
            return schema, True
        if h == "union":
            return _union(args, unknown, optional, _depth + 1)
        if h == "literal":
            try:
                values = [ast.literal_eval(a) for a in args]
            except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
                unknown.append(text)
                return {}, optional
            return {"enum": values}, optional
        if h in _ARRAYS:
            item, _ = parse_type(args[0], unknown, _depth + 1) if args else ({}, False)
            out: dict[str, Any] = {"type": "array"}
            if item:
                out["items"] = item
            if h in ("set", "frozenset"):
                out["uniqueItems"] = True
            return out, optional
        if h == "tuple":
            if len(args) == 2 and args[1] == "...":
                item, _ = parse_type(args[0], unknown, _depth + 1)
                return ({"type": "array", "items": item} if item else {"type": "array"}), optional
            items = [parse_type(a, unknown, _depth + 1)[0] for a in args]
            return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}, optional
        if h in _DICTS:
            out = {"type": "object"}
            if len(args) == 2:
                value, _ = parse_type(args[1], unknown, _depth + 1)
                if value:
                    out["additionalProperties"] = value
            return out, optional
        unknown.append(text)
        return {}, optional
    base = _BASE.get(low.removeprefix("typing.").strip())
    if base is None:
        unknown.append(text)
        return {}, optional
    return dict(base), optional or low in ("none", "null", "nonetype")


def _union(alts: list[str], unknown: list[str], optional: bool, _depth: int = 0) -> tuple[dict[str, Any], bool]:
    schemas = []
    for a in alts:
        if a.strip().lower() in ("none", "null", "nonetype"):
            optional = True
            continue
        schemas.append(parse_type(a, unknown, _depth + 1)[0])
    if not schemas:
        return {"type": "null"}, True
    if len(schemas) == 1:
        return schemas[0], optional
    if any(not s for s in schemas):
        return {}, optional
    if all(set(s) == {"type"} for s in schemas):
        return {"type": sorted({s["type"] for s in schemas})}, optional
    return {"anyOf": schemas}, optional


def looks_like_xlam_params(params: dict[str, Any]) -> bool:
    """xLAM writes ``{param: {"type": "str", ...}}`` with no ``properties``/object ``type``."""
    if "properties" in params or isinstance(params.get("type"), str):
        return False
    return all(isinstance(v, dict) for v in params.values())


def xlam_params_to_schema(params: dict[str, Any], notes: list[str], *, where: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in params.items():
        unknown: list[str] = []
        tstr = spec.get("type")
        if tstr is None:
            schema: dict[str, Any] = {}
            optional = False
        elif isinstance(tstr, str):
            schema, optional = parse_type(tstr, unknown)
        else:
            raise ValueError(f"{where}: parameter {name!r} has a type that is not a string: {tstr!r}")
        for u in unknown:
            notes.append(f"{where}: type {u!r} of parameter {name!r} has no JSON Schema equivalent; left unconstrained")
        if isinstance(spec.get("description"), str):
            schema["description"] = spec["description"]
        if "default" in spec:
            schema["default"] = spec["default"]
        if isinstance(spec.get("enum"), list):
            schema["enum"] = spec["enum"]
        props[name] = schema
        if not optional and "default" not in spec:  # a parameter with a default may be left out
            required.append(name)
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _decoded(value: dict[str, Any], key: str) -> Any:
    from toolforge.importers.infer import loads_lenient

    v = value.get(key)
    if isinstance(v, str):
        try:
            return loads_lenient(v)
        except ValueError as exc:
            raise ConversionError(f"{key}: {exc}") from None
    return v


def convert(value: Any) -> Record:
    from toolforge.importers.infer import build_record, call_message, tool_from_def

    if not isinstance(value, dict):
        raise ConversionError(f"expected a JSON object, got {type(value).__name__}")
    query = value.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ConversionError('missing "query" (the user request)')
    tools_raw = _decoded(value, "tools")
    answers = _decoded(value, "answers")
    if not isinstance(tools_raw, list):
        raise ConversionError('"tools" must be a list of tool definitions')
    if not isinstance(answers, list):
        raise ConversionError('"answers" must be a list of calls')
    notes: list[str] = []
    try:
        tools = [tool_from_def(t, notes) for t in tools_raw]
        messages: list[dict[str, Any]] = [{"role": "user", "content": query}]
        meta: dict[str, Any] = {"source_id": value["id"]} if "id" in value else {}
        if answers:
            messages.append(call_message(answers, [0]))
            meta["call_only"] = True
        else:  # xLAM's irrelevance data: the right answer is no call; the source has no text for it
            from toolforge.importers.bfcl import NO_CALL_TEXT

            messages.append({"role": "assistant", "content": NO_CALL_TEXT})
            meta["synthetic_answer"] = True
        return build_record(tools, messages, source="xlam", notes=notes, meta=meta)
    except ValueError as exc:
        raise ConversionError(str(exc)) from None
