"""`validate` flags records that copy toolforge's own examples or prompt text (and passes twins with their own
requests); users' own seed pools; `tools from-python` return annotations become result shapes."""

from __future__ import annotations

import json

import pytest

from toolforge.catalog.from_python import catalog_from_module
from toolforge.errors import InputError
from toolforge.generate.seeds import load_seeds
from toolforge.validate import validate_record

TOOLS = [{"type": "function", "function": {"name": "get_current_datetime", "description": "Current time.",
          "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}}}}]


OWN = "In Lima it is 10:05, and in Oslo it is already 16:05."


def record(user, answer, zones=("America/Lima", "Europe/Oslo"), times=("10:05", "16:05")):
    calls = [{"id": f"call_{i}", "type": "function", "function": {"name": "get_current_datetime", "arguments": {"timezone": z}}}
             for i, z in enumerate(zones)]
    msgs = [{"role": "system", "content": "You are a helpful assistant with access to tools."},
            {"role": "user", "content": user}, {"role": "assistant", "content": "", "tool_calls": calls}]
    msgs += [{"role": "tool", "tool_call_id": f"call_{i}", "name": "get_current_datetime",
              "content": json.dumps({"datetime": t, "timezone": z})} for i, (z, t) in enumerate(zip(zones, times, strict=True))]
    msgs.append({"role": "assistant", "content": answer})
    return {"scenario": "multi_tool_parallel", "tools": TOOLS, "messages": msgs}


def codes(rec):
    return {i.code for i in validate_record(rec)}


@pytest.mark.parametrize(("faulty", "twin", "code"), [
    (record("Current time in Tokyo and in Denver?", "It is 09:12 in Tokyo and 17:12 in Denver."),
     record("I have calls with Lima and Oslo later: what time is it in each?", OWN), "copied_example"),
    (record("What time is it in Lima and Oslo?", "It is 09:12 on Tuesday in Tokyo and 17:12 on Monday in Denver."),
     record("What time is it in Lima and Oslo?", OWN), "copied_example"),
    (record("A nurse who plans shifts for a small clinic", OWN),
     record("As a nurse planning clinic shifts, I need the time in Lima and Oslo for two calls.", OWN), "prompt_leak"),
    (record("Please do multi_tool_parallel: time in Lima and Oslo", OWN),
     record("Please check the time in Lima and Oslo at the same time", OWN), "prompt_leak"),
    (record("Time in Lima and Oslo, with complex multi-step reasoning please", OWN),
     record("Time in Lima and Oslo, and think it through please", OWN), "prompt_leak"),
])
def test_copies_and_leaks_are_flagged_and_twins_pass(faulty, twin, code):
    assert code in codes(faulty)
    assert not codes(twin) & {"copied_example", "prompt_leak"}


def test_users_own_seed_pools_merge_over_the_packaged_ones(tmp_path):
    mine = tmp_path / "seeds.yaml"
    mine.write_text("personas: [a lighthouse keeper, a ferry captain]\n"
                    "tools:\n  get_weather:\n    tasks: [decide whether the ferry sails]\n")
    seeds = load_seeds(str(mine))
    assert seeds["personas"] == ["a lighthouse keeper", "a ferry captain"]
    assert seeds["tools"]["get_weather"]["tasks"] == ["decide whether the ferry sails"]
    assert "weather" in seeds["tools"]["get_weather"]["keywords"]  # packaged keywords kept
    assert seeds["topics"] == load_seeds()["topics"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("personaz: [x]\n")
    with pytest.raises(InputError, match="unknown key"):
        load_seeds(str(bad))


def test_from_python_reads_return_annotations_into_returns(tmp_path):
    mod = tmp_path / "tools_mod.py"
    mod.write_text(
        "from typing import TypedDict\n\n"
        "class Forecast(TypedDict):\n    city: str\n    high_c: float\n    rain: bool\n\n"
        "def forecast(city: str) -> Forecast:\n    \"\"\"Tomorrow's forecast.\n\n    Args:\n        city: The city.\n    \"\"\"\n\n"
        "def names(prefix: str) -> list[str]:\n    \"\"\"Names.\n\n    Args:\n        prefix: A prefix.\n    \"\"\"\n\n"
        "def nothing(x: int) -> None:\n    \"\"\"Nothing.\n\n    Args:\n        x: An x.\n    \"\"\"\n")
    cat = {t["function"]["name"]: t["function"] for t in catalog_from_module(mod)["tools"]}
    assert cat["forecast"]["returns"] == {"type": "object", "properties": {
        "city": {"type": "string"}, "high_c": {"type": "number"}, "rain": {"type": "boolean"}},
        "required": ["city", "high_c", "rain"]}
    assert cat["names"]["returns"] == {"type": "array", "items": {"type": "string"}}
    assert "returns" not in cat["nothing"]
    out = tmp_path / "cat.json"
    out.write_text(json.dumps(catalog_from_module(mod)))
    from toolforge.catalog import load_catalog, load_returns

    assert [t.name for t in load_catalog(out).tools] == ["forecast", "names", "nothing"]  # returns is not part of a Tool
    assert load_returns([out])["forecast"]["properties"]["rain"] == {"type": "boolean"}


def test_example_values_leaked_into_a_tool_result_are_flagged():
    leaked = record("Which of my folders has the q3 report?", OWN)
    leaked["messages"][3]["content"] = json.dumps({"error": "file_not_found", "message": "reports/q3.csv does not exist"})
    hits = [i for i in validate_record(leaked) if i.code == "copied_example"]
    assert hits and hits[0].path == "messages[3].content" and "error_recovery example" in hits[0].message
    assert "copied_example" not in codes(record("Which of my folders has the q3 report?", OWN))


def test_a_tool_is_needed_by_its_keywords_not_by_everyday_words():
    """http_request's keywords once held 'request' and 'rest': every polite request 'needed' it, so one-shot
    replies that merely said 'request' were re-asked for using a distractor."""
    from toolforge.catalog import load_catalogs
    from toolforge.generate.seeds import request_needs

    seeds = load_seeds()
    http = next(t for t in load_catalogs(["smol-tools"]) if t.name == "http_request")
    assert not request_needs("I have a request: what's the weather in Oslo tomorrow?", http, seeds)
    assert not request_needs("Find a hotel where I can get some rest after the flight.", http, seeds)
    assert request_needs("Check that the REST API endpoint /v1/users answers.", http, seeds)
    assert request_needs("Send a POST request to our billing service.", http, seeds)
