"""A compiled fast path for the common subset of JSON Schema, with jsonschema as the authority.

``compile_fast(schema)`` returns a predicate that answers True only when the
instance is certainly valid under Draft 2020-12, or None when the schema uses
a keyword outside the subset handled here. When the predicate answers False
the caller asks the real validator (``jsonschema``) for the errors, so every
reported error, message and path comes from jsonschema; the fast path only
skips the real validator for arguments that are valid, which is most of them.

Handled: ``type``, ``properties``, ``required``, ``additionalProperties``
(boolean or a schema), ``enum``/``const`` of strings, ``minimum``/``maximum``/
``exclusiveMinimum``/``exclusiveMaximum``, ``minLength``/``maxLength``,
``pattern``, ``format``, ``items`` (one schema), ``minItems``/``maxItems``,
and annotation keywords that never fail (``description``, ``default``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Pred = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"description", "default", "title", "examples", "$comment", "deprecated",
                          "readOnly", "writeOnly", "contentMediaType", "contentEncoding"})
_HANDLED = frozenset({"type", "properties", "required", "additionalProperties", "enum", "const", "minimum",
                      "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern",
                      "format", "items", "minItems", "maxItems"}) | _ANNOTATIONS
# every keyword of the Draft 2020-12 vocabularies: any of these outside _HANDLED means "use jsonschema"
_KNOWN = frozenset({
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$defs", "allOf",
    "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "contains",
    "patternProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties", "multipleOf",
    "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "dependentRequired",
    "definitions", "dependencies",
}) | _HANDLED


def _is_num(x: Any) -> bool:
    return (type(x) is int or type(x) is float)


def _type_pred(t: str) -> Pred | None:
    if t == "string":
        return lambda x: type(x) is str
    if t == "integer":
        return lambda x: type(x) is int or (type(x) is float and x.is_integer())
    if t == "number":
        return _is_num
    if t == "boolean":
        return lambda x: type(x) is bool
    if t == "object":
        return lambda x: type(x) is dict
    if t == "array":
        return lambda x: type(x) is list
    if t == "null":
        return lambda x: x is None
    return None


def compile_fast(schema: Any, format_checker: Any = None) -> Pred | None:
    if schema is True:
        return lambda x: True
    if schema is False:
        return lambda x: False
    if not isinstance(schema, dict):
        return None
    for k in schema:
        if k in _KNOWN and k not in _HANDLED:
            return None
    checks: list[Pred] = []

    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        preds = [_type_pred(x) for x in types]
        if any(p is None for p in preds):
            return None
        if len(preds) == 1:
            checks.append(preds[0])  # type: ignore[arg-type]
        else:
            ps = tuple(preds)
            checks.append(lambda x: any(p(x) for p in ps))  # type: ignore[misc]

    for kw in ("enum", "const"):
        if kw in schema:
            values = schema[kw] if kw == "enum" else [schema[kw]]
            if not isinstance(values, list) or not all(type(v) is str for v in values):
                return None
            allowed = frozenset(values)
            checks.append(lambda x, a=allowed: type(x) is str and x in a)  # type: ignore[misc]

    for kw, op in (("minimum", lambda x, b: x >= b), ("maximum", lambda x, b: x <= b),
                   ("exclusiveMinimum", lambda x, b: x > b), ("exclusiveMaximum", lambda x, b: x < b)):
        if kw in schema:
            bound = schema[kw]
            if not _is_num(bound):
                return None
            checks.append(lambda x, b=bound, o=op: not _is_num(x) or o(x, b))  # type: ignore[misc]

    if "minLength" in schema or "maxLength" in schema:
        lo = schema.get("minLength", 0)
        hi = schema.get("maxLength")
        if type(lo) is not int or (hi is not None and type(hi) is not int):
            return None
        checks.append(lambda x, lo=lo, hi=hi: type(x) is not str or (len(x) >= lo and (hi is None or len(x) <= hi)))  # type: ignore[misc]

    if "pattern" in schema:
        try:
            rx = re.compile(schema["pattern"])
        except (re.error, TypeError):
            return None
        checks.append(lambda x, rx=rx: type(x) is not str or rx.search(x) is not None)  # type: ignore[misc]

    if "format" in schema and format_checker is not None:
        fmt = schema["format"]
        fc = format_checker
        checks.append(lambda x, f=fmt: fc.conforms(x, f))  # type: ignore[misc]

    if "minItems" in schema or "maxItems" in schema:
        lo = schema.get("minItems", 0)
        hi = schema.get("maxItems")
        if type(lo) is not int or (hi is not None and type(hi) is not int):
            return None
        checks.append(lambda x, lo=lo, hi=hi: type(x) is not list or (len(x) >= lo and (hi is None or len(x) <= hi)))  # type: ignore[misc]

    if "items" in schema:
        item = compile_fast(schema["items"], format_checker)
        if item is None:
            return None
        checks.append(lambda x, p=item: type(x) is not list or all(p(v) for v in x))  # type: ignore[misc]

    props = schema.get("properties")
    if props is not None or "required" in schema or "additionalProperties" in schema:
        if props is not None and not isinstance(props, dict):
            return None
        sub: dict[str, Pred] = {}
        for name, s in (props or {}).items():
            p = compile_fast(s, format_checker)
            if p is None:
                return None
            sub[name] = p
        req = schema.get("required", [])
        if not isinstance(req, list):
            return None
        addl = schema.get("additionalProperties", True)
        extra: Pred | None = None
        if isinstance(addl, dict):
            extra = compile_fast(addl, format_checker)
            if extra is None:
                return None
        elif not isinstance(addl, bool):
            return None
        required = tuple(req)
        closed = addl is False

        def obj(x: Any, sub: dict[str, Pred] = sub, required: tuple[str, ...] = required, closed: bool = closed,
                extra: Pred | None = extra) -> bool:
            if type(x) is not dict:
                return True
            for r in required:
                if r not in x:
                    return False
            for k, v in x.items():
                p = sub.get(k)
                if p is None:
                    if closed or (extra is not None and not extra(v)):
                        return False
                elif not p(v):
                    return False
            return True

        checks.append(obj)

    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]
    cs = tuple(checks)
    return lambda x: all(c(x) for c in cs)
