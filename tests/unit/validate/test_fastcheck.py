"""The fast path may only ever say "valid" when jsonschema (Draft 2020-12) says valid too."""

from __future__ import annotations

import json
import random

import pytest
from jsonschema import Draft202012Validator

from toolforge.catalog import load_catalog
from toolforge.validate.arguments import format_checker
from toolforge.validate.fastcheck import compile_fast

SCHEMAS = [
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10}}, "required": ["a"]},
    {"type": "object", "properties": {"s": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"}},
     "additionalProperties": False},
    {"type": "object", "properties": {"e": {"enum": ["x", "y"]}, "c": {"const": "k"}, "n": {"type": ["number", "null"]}}},
    {"type": "object", "properties": {"l": {"type": "array", "items": {"type": "string", "format": "date"},
                                            "minItems": 1, "maxItems": 2}}},
    {"type": "object", "properties": {"o": {"type": "object", "properties": {"z": {"type": "boolean"}},
                                            "required": ["z"], "additionalProperties": False}}},
    {"type": "object", "properties": {"u": {"type": "string", "format": "uri"}, "m": {"minimum": 3}}},
    {"type": "object", "properties": {"h": {"type": "object", "additionalProperties": {"type": "string"}}},
     "additionalProperties": {"type": "integer"}},
]
VALUES = [None, True, False, 0, 1, -1, 1.0, 1.5, 9, 10, 10.0, 11, 3, "", "a", "ab", "abcd", "abcde", "AB", "x", "y", "k",
          "2024-01-31", "2024-13-01", "https://example.org", "not a uri", [], ["2024-01-31"], ["x", "y", "z"],
          {}, {"z": True}, {"z": 1}, {"z": False, "w": 1}]


def _instances(rng, keys, n=300):
    out = [{}]
    for _ in range(n):
        d = {}
        for k in rng.sample(keys, rng.randint(0, len(keys))):
            d[k] = rng.choice(VALUES)
        out.append(d)
    return out


def _agree(schema, instances):
    fast = compile_fast(schema, format_checker())
    assert fast is not None
    real = Draft202012Validator(schema, format_checker=format_checker())
    n_fast_valid = 0
    for x in instances:
        ok = real.is_valid(x)
        if fast(x):
            n_fast_valid += 1
            assert ok, (schema, x)
        else:
            # the fast path may be unsure, but for this subset it should be exact
            assert not ok, (schema, x)
    return n_fast_valid


@pytest.mark.parametrize("schema", SCHEMAS)
def test_fast_path_agrees_with_jsonschema(schema):
    rng = random.Random(7)
    keys = list(schema["properties"]) + ["extra"]
    assert _agree(schema, _instances(rng, keys)) > 0


def test_catalog_schemas_agree():
    rng = random.Random(11)
    for cat in ("smol-tools", "camera"):
        for tool in load_catalog(cat).tools:
            params = tool.function.parameters
            keys = list(params.get("properties", {})) + ["extra"]
            _agree(params, _instances(rng, keys, 100))


def test_unsupported_keywords_fall_back():
    assert compile_fast({"type": "object", "anyOf": [{"required": ["a"]}]}) is None
    assert compile_fast({"type": "object", "properties": {"a": {"$ref": "#/x"}}}) is None
    assert compile_fast({"enum": [1, 2]}) is None  # non-string enums: the real validator decides
    assert compile_fast({"type": "object", "additionalProperties": {"anyOf": [{"type": "string"}]}}) is None
    assert json.dumps(compile_fast({"description": "x", "x-vendor": 1}) is not None) == "true"
