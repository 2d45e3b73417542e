"""Schema dialects that are almost JSON Schema.

BFCL (the Berkeley Function Calling Leaderboard) writes tool parameters in a
Python-flavoured dialect: ``"type": "dict"`` for objects, ``float`` for
numbers, ``tuple`` for arrays and ``any`` for "no constraint", plus an
``optional`` flag that JSON Schema does not know. :func:`bfcl_to_jsonschema`
turns such a schema into a Draft 2020-12 one; schemas already in JSON Schema
pass through unchanged.
"""

from __future__ import annotations

from typing import Any

_TYPE_MAP = {
    "dict": "object",
    "float": "number",
    "double": "number",
    "tuple": "array",
    "list": "array",
    "int": "integer",
    "str": "string",
    "bool": "boolean",
    "object": "object",
    "number": "number",
    "array": "array",
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
    "null": "null",
}

# keywords whose value is one subschema
_SUB_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames",
            "unevaluatedProperties", "unevaluatedItems", "if", "then", "else")
# keywords whose value maps names to subschemas
_SUB_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# keywords whose value is a list of subschemas
_SUB_LIST = ("anyOf", "allOf", "oneOf", "prefixItems")
# BFCL-only keywords that carry no constraint
_DROP = ("optional",)


def _map_type(t: Any) -> Any:
    if isinstance(t, str):
        return _TYPE_MAP.get(t, t)
    if isinstance(t, list):
        mapped = [_map_type(x) for x in t]
        return None if "any" in mapped else mapped
    return t


def bfcl_to_jsonschema(params: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema (Draft 2020-12) equivalent of a BFCL parameters schema.

    The input is not modified. Unknown type names are kept, so that the
    validator reports them as an invalid schema instead of silently accepting
    anything.
    """
    return _convert(params)


def _convert(schema: Any) -> Any:
    if isinstance(schema, bool) or not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP:
            continue
        if key == "type":
            if value == "any":
                continue
            mapped = _map_type(value)
            if mapped is not None:
                out["type"] = mapped
        elif key == "items" and isinstance(value, list):  # draft-04 tuple form
            out["prefixItems"] = [_convert(v) for v in value]
        elif key in _SUB_ONE:
            out[key] = _convert(value)
        elif key in _SUB_MAP and isinstance(value, dict):
            out[key] = {k: _convert(v) for k, v in value.items()}
        elif key in _SUB_LIST and isinstance(value, list):
            out[key] = [_convert(v) for v in value]
        else:
            out[key] = value
    return out


def bfcl_function_to_tool(fn: dict[str, Any]) -> dict[str, Any]:
    """A BFCL function doc ``{name, description, parameters}`` as a record tool."""
    params = bfcl_to_jsonschema(fn.get("parameters") or {"type": "dict", "properties": {}})
    return {
        "type": "function",
        "function": {"name": fn["name"], "description": fn.get("description", ""), "parameters": params},
    }
