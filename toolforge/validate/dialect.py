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
    # BFCL puts the allowed item values of a list on the array itself
    if out.get("type") == "array" and isinstance(out.get("enum"), list) and all(
            not isinstance(v, (list, dict)) for v in out["enum"]):
        items = dict(out.get("items") or {}) if isinstance(out.get("items"), dict) else {}
        items.setdefault("enum", out.pop("enum"))
        out["items"] = items
    return out


def bfcl_function_to_tool(fn: dict[str, Any]) -> dict[str, Any]:
    """A BFCL function doc ``{name, description, parameters}`` as a record tool."""
    params = bfcl_to_jsonschema(fn.get("parameters") or {"type": "dict", "properties": {}})
    return {
        "type": "function",
        "function": {"name": fn["name"], "description": fn.get("description", ""), "parameters": params},
    }


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
               (dict, "object"), (type(None), "null"))


def _json_type(value: Any) -> str:
    for py, name in _JSON_TYPES:
        if isinstance(value, py):
            return name
    return "string"


def bfcl_reconcile(schema: dict[str, Any], answer: dict[str, list[Any]], arguments: dict[str, Any]) -> dict[str, Any]:
    """A copy of a converted BFCL schema loosened the way BFCL's own checker reads its answer key.

    BFCL's checker lets the answer key override the doc: a parameter whose
    acceptable values include ``""`` may be left out even when the doc marks it
    required; a value whose type differs from the doc's is judged by the
    answer's type; a parameter in the answer but not in the doc is allowed; and
    ``enum`` is never checked. Some gold answers rely on that (a strict JSON
    Schema validator rejects them). This function applies exactly those rules
    for ``arguments`` (a call built from the answer key), so that a record built
    from BFCL validates the way BFCL scores it. It never loosens anything the
    answer does not need.
    """
    import copy

    from jsonschema import Draft202012Validator

    s = copy.deepcopy(schema)
    props = s.setdefault("properties", {})
    required = s.get("required")
    for name, values in answer.items():
        if isinstance(values, list) and "" in values and isinstance(required, list) and name in required:
            required.remove(name)
        if name not in props:
            props[name] = {}
    for _ in range(50):
        errors = list(Draft202012Validator(s).iter_errors(arguments))
        if not errors:
            break
        for err in errors:
            node: Any = s
            for part in list(err.absolute_schema_path)[:-1]:
                node = node[part]
            if not isinstance(node, dict):
                continue
            kw = err.validator
            if kw == "type":
                have = node.get("type")
                types = list(have) if isinstance(have, list) else [have]
                t = _json_type(err.instance)
                if t not in types:
                    node["type"] = [*types, t]
            elif kw == "required":
                missing = [r for r in node.get("required", []) if r not in (err.instance or {})]
                node["required"] = [r for r in node.get("required", []) if r not in missing]
            elif kw == "additionalProperties":
                node["additionalProperties"] = True
            else:  # enum and the rest: BFCL does not check them
                node.pop(kw, None)
    return s
