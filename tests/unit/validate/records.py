"""Hand-written records for the validator tests: a clean base and small breakages of it."""

from __future__ import annotations

import copy
from typing import Any

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "minLength": 1},
        "units": {"type": "string", "enum": ["metric", "imperial"]},
        "days": {"type": "integer", "minimum": 0, "maximum": 7},
        "when": {"type": "string", "format": "date"},
        "coords": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                   "required": ["lat", "lon"], "additionalProperties": False}},
        "required": ["city"], "additionalProperties": False}}}
SEARCH = {"type": "function", "function": {
    "name": "web_search", "description": "Search the web.",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string", "minLength": 1},
        "site": {"type": "string", "pattern": "^[a-z0-9.-]+$"},
        "num_results": {"type": "integer", "minimum": 1, "maximum": 20}},
        "required": ["query"]}}}  # no additionalProperties: undeclared arguments are still unexpected
OPEN = {"type": "function", "function": {
    "name": "log_event", "description": "Log anything.",
    "parameters": {"type": "object", "properties": {"event": {"type": "string"}}, "required": ["event"],
                   "additionalProperties": True}}}


def call(cid: str, name: str, args: Any) -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def single(**kw: Any) -> dict[str, Any]:
    """A clean single_tool record."""
    rec = {
        "scenario": "single_tool",
        "tools": [copy.deepcopy(WEATHER), copy.deepcopy(SEARCH), copy.deepcopy(OPEN)],
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "content": "", "tool_calls": [call("c1", "get_weather", {"city": "Oslo"})]},
            {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": '{"temp_c": 4}'},
            {"role": "assistant", "content": "It is 4 °C in Oslo."},
        ],
    }
    rec.update(kw)
    return rec


def with_args(args: Any, name: str = "get_weather") -> dict[str, Any]:
    rec = single()
    rec["messages"][2]["tool_calls"][0]["function"] = {"name": name, "arguments": args}
    rec["messages"][3]["name"] = name
    return rec


def parallel() -> dict[str, Any]:
    rec = single(scenario="multi_tool_parallel")
    rec["messages"][1]["content"] = "Weather in Oslo and Rome?"
    rec["messages"][2]["tool_calls"] = [call("c1", "get_weather", {"city": "Oslo"}),
                                        call("c2", "get_weather", {"city": "Rome"})]
    rec["messages"][3:] = [
        {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": '{"temp_c": 4}'},
        {"role": "tool", "tool_call_id": "c2", "name": "get_weather", "content": '{"temp_c": 21}'},
        {"role": "assistant", "content": "Oslo 4 °C, Rome 21 °C."},
    ]
    return rec


def sequential() -> dict[str, Any]:
    rec = single(scenario="multi_tool_sequential")
    rec["messages"][1]["content"] = "Find the city with the tallest tower and tell me its weather."
    rec["messages"][2]["tool_calls"] = [call("c1", "web_search", {"query": "tallest tower city"})]
    rec["messages"][3:] = [
        {"role": "tool", "tool_call_id": "c1", "name": "web_search", "content": '{"results": [{"city": "Dubai"}]}'},
        {"role": "assistant", "content": "", "tool_calls": [call("c2", "get_weather", {"city": "Dubai"})]},
        {"role": "tool", "tool_call_id": "c2", "name": "get_weather", "content": '{"temp_c": 35}'},
        {"role": "assistant", "content": "Dubai has the tallest tower; it is 35 °C there."},
    ]
    return rec


def no_tool() -> dict[str, Any]:
    rec = single(scenario="no_tool_needed")
    rec["messages"][1:] = [{"role": "user", "content": "What is 2 + 2?"},
                           {"role": "assistant", "content": "2 + 2 is 4."}]
    return rec


def error_recovery() -> dict[str, Any]:
    rec = single(scenario="error_recovery")
    rec["messages"][3]["content"] = '{"error": "city_not_found"}'
    rec["messages"][4:] = [
        {"role": "assistant", "content": "", "tool_calls": [call("c2", "get_weather", {"city": "Oslo, Norway"})]},
        {"role": "tool", "tool_call_id": "c2", "name": "get_weather", "content": '{"temp_c": 4}'},
        {"role": "assistant", "content": "With the country added: 4 °C in Oslo."},
    ]
    return rec


def reasoning() -> dict[str, Any]:
    rec = single(scenario="reasoning_heavy")
    rec["messages"][2]["reasoning"] = ("The user wants current conditions, not a forecast, so days stays 0. "
                                       "Oslo is unambiguous enough; units default to metric, which suits a "
                                       "European city. One call is enough.")
    return rec


def complex_steps() -> dict[str, Any]:
    rec = sequential()
    rec["scenario"] = "complex_multi_step"
    rec["messages"][-1:] = [
        {"role": "assistant", "content": "", "tool_calls": [call("c3", "log_event", {"event": "weather Dubai 35"})]},
        {"role": "tool", "tool_call_id": "c3", "name": "log_event", "content": '{"ok": true}'},
        {"role": "assistant", "content": "Dubai: 35 °C, and I logged it."},
    ]
    return rec


CLEAN = {"single_tool": single, "multi_tool_parallel": parallel, "multi_tool_sequential": sequential,
         "no_tool_needed": no_tool, "error_recovery": error_recovery, "reasoning_heavy": reasoning,
         "complex_multi_step": complex_steps}
