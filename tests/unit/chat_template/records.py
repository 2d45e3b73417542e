"""Records for chat-template tests: the bundled samples plus the shapes templates trip on."""

from __future__ import annotations

import json
from pathlib import Path

from toolforge.record import Record

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "tests" / "fixtures" / "chat_templates"

_WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name."},
        "unit": {"type": "string", "enum": ["c", "f"], "description": "Unit."}}, "required": ["city"]}}}
_BOOK = {"type": "function", "function": {
    "name": "book_table", "description": "Book a restaurant table.",
    "parameters": {"type": "object", "properties": {
        "restaurant": {"type": "string", "description": "Name."},
        "party_size": {"type": "integer", "description": "People."},
        "options": {"type": "object", "description": "Extras."},
        "terrace": {"type": "boolean", "description": "Outside?"}}, "required": ["restaurant", "party_size"]}}}

EXTRA = [
    # text and reasoning on the call turn; unicode, quotes, backslashes and markup in the text
    {"scenario": "reasoning_heavy", "tools": [_BOOK], "messages": [
        {"role": "system", "content": "Du bist ein hilfreicher Assistent. Antworte kurz."},
        {"role": "user", "content": "Book Maaemo for 2 on the terrace — \"quiet\" table, path C:\\tmp please 🙂"},
        {"role": "assistant", "reasoning": "They want Maaemo, 2 people, terrace=true.\nNo date given: book today.",
         "content": "Let me book that for you.",
         "tool_calls": [{"id": "call_a1b2c3d4e", "type": "function", "function": {"name": "book_table", "arguments": {
             "restaurant": "Maaemo", "party_size": 2, "terrace": True,
             "options": {"notes": ["quiet", "vegetarian </tool_call>"], "budget": 1250.5, "child_seat": None}}}}]},
        {"role": "tool", "tool_call_id": "call_a1b2c3d4e", "name": "book_table",
         "content": "{\"status\": \"confirmed\", \"ref\": \"MA-42\"}"},
        {"role": "assistant", "reasoning": "Confirmed, ref MA-42.", "content": "Booked ✅ — reference MA-42."}]},
    # two user turns, parallel calls with their results, no system prompt
    {"scenario": "multi_tool_parallel", "tools": [_WEATHER], "messages": [
        {"role": "user", "content": "Weather in Oslo and Tromsø?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_111111111", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}},
            {"id": "call_222222222", "type": "function", "function": {"name": "get_weather",
                                                                       "arguments": {"city": "Tromsø", "unit": "c"}}}]},
        {"role": "tool", "tool_call_id": "call_111111111", "name": "get_weather", "content": "{\"temp_c\": 4}"},
        {"role": "tool", "tool_call_id": "call_222222222", "name": "get_weather", "content": "{\"temp_c\": -3}"},
        {"role": "assistant", "content": "Oslo 4 °C, Tromsø -3 °C."},
        {"role": "user", "content": "Thanks! And in Fahrenheit for Oslo?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_333333333", "type": "function", "function": {"name": "get_weather",
                                                                       "arguments": {"city": "Oslo", "unit": "f"}}}]},
        {"role": "tool", "tool_call_id": "call_333333333", "name": "get_weather", "content": "{\"temp_f\": 39.2}"},
        {"role": "assistant", "content": "Oslo is 39.2 °F."}]},
    # no tools at all
    {"scenario": "no_tool_needed", "tools": [], "messages": [
        {"role": "user", "content": "Say hi in Japanese."},
        {"role": "assistant", "content": "こんにちは"}]},
]


def sample_records() -> list[Record]:
    lines = (ROOT / "examples" / "sample.jsonl").read_text(encoding="utf-8").splitlines()
    return [Record.model_validate(json.loads(x)) for x in lines if x.strip()]


def all_records() -> list[Record]:
    return sample_records() + [Record.model_validate(d) for d in EXTRA]
