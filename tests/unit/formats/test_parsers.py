"""Parsers on realistic model output: text around calls, several calls, unterminated ends,
single-quoted Python literals, trailing commas; bad syntax raises ParseError; nothing is evaluated."""

from __future__ import annotations

import pytest

from toolforge.errors import UsageError
from toolforge.formats import FAMILIES, ParseError, UnknownFamilyError, get_parser, get_renderer

W = {"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}
T = {"name": "translate", "arguments": {"text": "it's \"fine\"", "target_language": "fr"}}

OUTPUTS = {
    "hermes": [
        ('Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}\n</tool_call>', [W]),
        ('<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2},}</tool_call>\n'
         '<tool_call>\n{"name": "translate", "arguments": {"text": "it\'s \\"fine\\"", "target_language": "fr"}', [W, T]),
        ('<tool_call>\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\", \\"days\\": 2}"}\n</tool_call> done', [W]),
        ('<think>I could use <tool_call> here.</think>\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}\n</tool_call>', [W]),
    ],
    "llama3_json": [
        ('<|python_tag|>{"name": "get_weather", "parameters": {"city": "Oslo", "days": 2}}<|eom_id|>', [W]),
        ('{"name": "get_weather", "parameters": {"city": "Oslo", "days": 2}}; '
         '{"name": "translate", "parameters": {"text": "it\'s \\"fine\\"", "target_language": "fr",}', [W, T]),
        ('Sure: {"name": "get_weather", "parameters": {"city": "Oslo", "days": 2}} is what I will call', [W]),
    ],
    "pythonic": [
        ("[get_weather(city='Oslo', days=2), translate(text='it\\'s \"fine\"', target_language='fr')]", [W, T]),
        ('I will call tools. [get_weather(city="Oslo", days=2,)] Then answer.', [W]),
        ('[get_weather(city="Oslo", days=2), translate(text="it\'s \\"fine\\"", target_language="fr"', [W, T]),
    ],
    "mistral": [
        ('[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}, "id": "abcdefghi"}]</s>', [W]),
        ('[TOOL_CALLS]get_weather{"city": "Oslo", "days": 2}[TOOL_CALLS]translate[ARGS]{"text": "it\'s \\"fine\\"", "target_language": "fr"}', [W, T]),
        ('Checking. [TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}},', [W]),
        ('[TOOL_CALLS]get_weather[CALL_ID]a1B2c3D4e[ARGS]{"city": "Oslo", "days": 2}</s>', [W]),
    ],
    "lfm2": [
        ('<|tool_call_start|>[get_weather(city="Oslo", days=2)]<|tool_call_end|>Checking the weather.', [W]),
        ("<|tool_call_start|>[get_weather(city='Oslo', days=2), translate(text=\"it's \\\"fine\\\"\", target_language='fr')]<|tool_call_end|>", [W, T]),
        ('<|tool_call_start|>[get_weather(city="Oslo", days=2', [W]),
    ],
    "phi4_mini": [
        ('functools[{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}]', [W]),
        ('Sure. functools[{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}, '
         '{"name": "translate", "arguments": {"text": "it\'s \\"fine\\"", "target_language": "fr"}},] ok', [W, T]),
        ('functools[{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}', [W]),
    ],
    "deepseek_v3": [
        ('<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Oslo", "days": 2}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>', [W]),
        ('Let me look.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Oslo", "days": 2,}\n```<｜tool▁call▁end｜>\n'
         '<｜tool▁call▁begin｜>translate<｜tool▁sep｜>{"text": "it\'s \\"fine\\"", "target_language": "fr"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>', [W, T]),
        ('<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Oslo", "days": 2', [W]),
    ],
    "xlam": [
        ('[{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}]', [W]),
        ('Here you go:\n```json\n[{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}, '
         '{"name": "translate", "arguments": {"text": "it\'s \\"fine\\"", "target_language": "fr"}},]\n```\nDone.', [W, T]),
        ('[{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}, {"name": "translate", "arguments": {"text": "it\'s \\"fine\\"", "target_language": "fr"', [W, T]),
    ],
}


def test_every_family_has_cases():
    assert set(OUTPUTS) == set(FAMILIES)


@pytest.mark.parametrize("family,text,expected", [(f, t, e) for f, cases in OUTPUTS.items() for t, e in cases])
def test_tolerant_parsing(family, text, expected):
    assert get_parser(family)(text) == expected


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_plain_answer_has_no_call(family):
    assert get_parser(family)("It is 4 °C in Oslo {today} [see below] (really).") == []
    assert get_parser(family)("") == []


BROKEN = {
    "hermes": "<tool_call>\n{name: get_weather args}\n</tool_call>",
    "llama3_json": "<|python_tag|>{name: get_weather}",
    "pythonic": "[get_weather(city=Oslo)]",
    "mistral": "[TOOL_CALLS] nonsense here",
    "lfm2": "<|tool_call_start|>[get_weather('Oslo')]<|tool_call_end|>",
    "phi4_mini": "functools[nonsense]",
    "deepseek_v3": "<｜tool▁call▁begin｜>get_weather without separator<｜tool▁call▁end｜>",
    "xlam": '[{"name": "get_weather", "arguments": [1, 2]}]',
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_unreadable_call_syntax_raises_parse_error(family):
    with pytest.raises(ParseError):
        get_parser(family)(BROKEN[family])


@pytest.mark.parametrize("family", ["pythonic", "lfm2"])
def test_pythonic_code_is_never_evaluated(family, tmp_path):
    marker = tmp_path / "pwned"
    payloads = [
        f"[f(a=__import__('os').system('touch {marker}'))]",
        f"[f(a=open('{marker}', 'w'))]",
        "[f(a=(lambda: 1)())]",
        "[f(a=[x for x in range(3)])]",
        "[f(1, 2)]",
        "[f(**{'a': 1})]",
    ]
    for p in payloads:
        text = p if family == "pythonic" else f"<|tool_call_start|>{p}<|tool_call_end|>"
        with pytest.raises(ParseError):
            get_parser(family)(text)
    assert not marker.exists()


def test_unknown_family_is_a_usage_error():
    with pytest.raises(UnknownFamilyError) as exc:
        get_parser("gpt-oss-harmony")
    assert isinstance(exc.value, UsageError)
    assert "hermes" in (exc.value.hint or "")
    with pytest.raises(UnknownFamilyError):
        get_renderer("nope")
