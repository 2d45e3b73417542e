"""Generation schemas: scenario shapes, tightened parameter schemas, llama.cpp grammar compilation."""

from __future__ import annotations

import json
import random

import jsonschema
import pytest

from toolforge.catalog import load_catalog, load_returns
from toolforge.generate.instances import instance
from toolforge.generate.plan import make_job
from toolforge.generate.schema import plan_schema, shape_params
from toolforge.record import SCENARIOS
from toolforge.validate.arguments import format_checker

CATALOGS = ("smol-tools", "camera")


@pytest.mark.parametrize("catalog", CATALOGS)
def test_tightened_params_only_accept_what_the_catalog_accepts(catalog):
    """Instances of the teacher-facing schema are valid under the catalog's own schema."""
    rng = random.Random(0)
    for tool in load_catalog(catalog).tools:
        params = tool.function.parameters
        shaped = shape_params(params)
        original = jsonschema.Draft202012Validator(params, format_checker=format_checker())
        for _ in range(25):
            value = instance(shaped, rng)
            errors = [e.message for e in original.iter_errors(value)]
            assert not errors, (tool.function.name, value, errors)


def test_shaping_bounds_strings_anchors_patterns_and_enumerates_small_ranges():
    s = shape_params({"type": "object", "properties": {
        "q": {"type": "string"}, "url": {"type": "string", "format": "uri", "pattern": "^https?://"},
        "d": {"type": "integer", "minimum": 0, "maximum": 7}, "big": {"type": "integer", "minimum": 1, "maximum": 9999},
        "xs": {"type": "array", "items": {"type": "string"}}}})
    p = s["properties"]
    assert p["q"]["maxLength"] <= 200
    assert p["url"]["pattern"].startswith("^https://") and p["url"]["pattern"].endswith("$")
    assert p["d"]["enum"] == list(range(8))
    assert p["big"]["maximum"] == 9999 and "enum" not in p["big"]
    assert p["xs"]["maxItems"] <= 5 and p["xs"]["items"]["maxLength"] <= 200


def test_call_counts_and_tool_enum_follow_the_job():
    tools = load_catalog("smol-tools").tools
    s = plan_schema("multi_tool_parallel", tools[:2])
    turn = s["properties"]["turns"]["items"]
    assert s["properties"]["turns"]["minItems"] == s["properties"]["turns"]["maxItems"] == 1
    # two or more calls, as many as the request needs: a lower bound, never an exact count
    assert turn["minItems"] == 2 and turn["maxItems"] > 2
    names = {b["properties"]["name"]["const"] for b in turn["items"]["anyOf"]}
    assert names == {tools[0].function.name, tools[1].function.name}
    nt = plan_schema("no_tool_needed", [])
    assert set(nt["properties"]) == {"user", "answer"}
    er = plan_schema("error_recovery", tools[:1], recovery="retry")
    assert er["properties"]["failed"]["properties"]["result"]["required"] == ["error", "message"]
    assert "retry" in er["required"]
    assert "retry" not in plan_schema("error_recovery", tools[:1], recovery="explain")["properties"]
    assert plan_schema("reasoning_heavy", tools[:1])["properties"]["reasoning"]["minLength"] >= 120


@pytest.mark.parametrize("catalog", CATALOGS)
def test_every_job_schema_compiles_to_a_llama_cpp_grammar(catalog):
    """The llama.cpp server silently falls back to free JSON when a schema does not compile: none may fail."""
    from llama_cpp.llama_grammar import LlamaGrammar

    tools = load_catalog(catalog).tools
    seen = set()
    for scenario in SCENARIOS:
        for i in range(12):
            job = make_job(scenario, i, 1, tools)
            s = plan_schema(scenario, job.callable, turns=job.turns, calls=job.calls, recovery=job.recovery,
                            returns=load_returns([catalog]))
            key = json.dumps(s)
            if key in seen:
                continue
            seen.add(key)
            LlamaGrammar.from_json_schema(key, verbose=False)  # raises on an unsupported construct
