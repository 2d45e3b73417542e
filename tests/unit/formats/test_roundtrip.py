"""parse(render(record)) gives back the record's calls, for every family."""

from __future__ import annotations

import pytest

from toolforge.formats import FAMILIES, get_parser, get_renderer
from toolforge.record import Record

TOOLS = [
    {"type": "function", "function": {"name": "search", "description": "Search.", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}, "filters": {"type": "object"},
                                         "tags": {"type": "array"}, "limit": {"type": "integer"}},
        "required": ["query"]}}},
    {"type": "function", "function": {"name": "send_email", "description": "Send an e-mail.", "parameters": {
        "type": "object", "properties": {"to": {"type": "string"}, "body": {"type": "string"}}, "required": ["to"]}}},
    {"type": "function", "function": {"name": "math.add", "description": "Add.", "parameters": {
        "type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}},
]


def _rec(turns: list[list[dict]], final: str = "Done.") -> Record:
    msgs: list[dict] = [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Please help."}]
    n = 0
    for calls in turns:
        tcs = []
        for c in calls:
            n += 1
            tcs.append({"id": f"call_{n}", "type": "function", "function": c})
        msgs.append({"role": "assistant", "content": "", "tool_calls": tcs})
        for tc in tcs:
            msgs.append({"role": "tool", "tool_call_id": tc["id"], "name": tc["function"]["name"],
                         "content": '{"ok": true, "note": "[f(a=1)] <tool_call> not a call"}'})
    msgs.append({"role": "assistant", "content": final})
    return Record.model_validate({"tools": TOOLS, "messages": msgs})


CASES = {
    "zero": _rec([], final='No tool needed: JSON is "JavaScript Object Notation" [a, b] {x}.'),
    "one": _rec([[{"name": "search", "arguments": {"query": "oslo weather"}}]]),
    "nested_unicode_quotes": _rec([[{"name": "search", "arguments": {
        "query": 'he said "hi" and it\'s café ☕ 東京 \\ back\nslash',
        "filters": {"lang": ["nb", "en"], "range": {"from": -1.5, "to": 2e10}, "exact": True, "none": None},
        "tags": [[1, 2], {"k": "v"}, []], "limit": 0}}]]),
    "parallel": _rec([[{"name": "search", "arguments": {"query": "a"}},
                       {"name": "send_email", "arguments": {"to": "x@example.com", "body": "line1\nline2 'q' \"dq\""}},
                       {"name": "math.add", "arguments": {"a": 1, "b": 2.5}}]]),
    "sequential": _rec([[{"name": "search", "arguments": {"query": "first"}}],
                        [{"name": "math.add", "arguments": {}}],
                        [{"name": "send_email", "arguments": {"to": "y@example.org"}}]]),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_parse_of_render_gives_back_the_calls(family, case):
    rec = CASES[case]
    text = get_renderer(family)(rec)
    assert isinstance(text, str) and "Please help." in text
    expected = [{"name": c.name, "arguments": c.arguments} for c in rec.calls]
    assert get_parser(family, strict=True)(text) == expected  # read strictly: no repair needed


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_assistant_turn_parses_alone(family):
    """The assistant part of a rendered turn is what a model emits; parsing it alone gives that turn's calls."""
    rec = CASES["parallel"]
    msgs = [m.model_dump(exclude_none=True) for m in rec.messages]
    full = get_renderer(family)(Record.model_validate({"tools": TOOLS, "messages": msgs[:3]}))
    prompt = get_renderer(family)(Record.model_validate({"tools": TOOLS, "messages": msgs[:2]}),
                                  add_generation_prompt=True)
    assert full.startswith(prompt) or family in ("mistral", "phi4_mini")
    if full.startswith(prompt):
        completion = full[len(prompt):]
        calls = get_parser(family, strict=True)(completion)
        assert calls == [{"name": c.name, "arguments": c.arguments} for c in rec.calls]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_generation_prompt_ends_ready_for_the_assistant(family):
    rec = CASES["one"]
    with_prompt = get_renderer(family)(rec, add_generation_prompt=True)
    without = get_renderer(family)(rec)
    assert with_prompt != without or family == "mistral"
    assert get_parser(family)(with_prompt) == get_parser(family)(without)
