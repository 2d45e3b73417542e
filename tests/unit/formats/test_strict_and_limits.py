"""The safe JSON reader, strict vs repaired parsing, non-call content, and the limits every
parser keeps (depth, size, NaN/Infinity) without recursing on hostile input."""

from __future__ import annotations

import json
import math
import pickle

import pytest

from toolforge.formats import FAMILIES, ParseError, get_parser, parse_output, split_reasoning
from toolforge.io import safejson


@pytest.mark.parametrize(("text", "code"), [
    ("[1, NaN]", "json_invalid"), ('{"a": Infinity}', "json_invalid"), ("-Infinity", "json_invalid"),
    ("1e999", "json_invalid"), ("[-1e400]", "json_invalid"), ("1" * 5000, "json_invalid"), ('{"a": 1', "json_invalid"),
    ("[" * 10_000 + "]" * 10_000, "too_deep"), ("[" * 65 + "]" * 65, "too_deep"),
])
def test_safe_loads_refuses_with_a_code(text, code):
    with pytest.raises(safejson.JSONLimitError) as exc:
        safejson.loads(text)
    assert exc.value.code == code and f"[{code}]" in str(exc.value)
    assert isinstance(exc.value, json.JSONDecodeError)  # existing `except JSONDecodeError` catch it


def test_safe_loads_accepts_ordinary_json_up_to_the_limit():
    assert safejson.loads("[" * 64 + "]" * 64) is not None
    assert safejson.loads('{"a": [1.5, {"b": "[[[[{{{{"}], "c": 1e300}') == {"a": [1.5, {"b": "[[[[{{{{"}], "c": 1e300}
    with pytest.raises(safejson.JSONLimitError) as exc:
        safejson.loads("x" * 20, max_bytes=10)
    assert exc.value.code == "too_large"


def test_limit_errors_survive_pickling_and_the_writer_never_writes_nan():
    err = pickle.loads(pickle.dumps(safejson.JSONLimitError("too_deep", "deep")))
    assert err.code == "too_deep"
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError):
            safejson.dumps({"x": bad})
    with pytest.raises(safejson.JSONLimitError):
        safejson.check_value({"a": [1, {"b": math.nan}]})


def test_records_refuse_non_finite_numbers_and_deep_content():
    from pydantic import ValidationError

    from toolforge.record import Record

    base = {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}]}
    assert Record.model_validate(base).id
    for bad in ({"x": math.inf}, {"x": [math.nan]}, {"x": json.loads("[" * 80 + "]" * 80)}):
        rec = json.loads(json.dumps(base))
        rec["messages"][1]["tool_calls"][0]["function"]["arguments"] = bad
        with pytest.raises(ValidationError):
            Record.model_validate(rec)
    rec = json.loads(json.dumps(base))
    rec["messages"][1]["tool_calls"][0]["function"]["arguments"] = '{"x": NaN}'  # the OpenAI wire form
    with pytest.raises(ValidationError, match="json_invalid"):
        Record.model_validate(rec)


# -- strict vs repaired ----------------------------------------------------------------------
REPAIRABLE = {
    "hermes": '<tool_call>\n{"name": "f", "arguments": {"a": 1,\n</tool_call>',
    "llama3_json": '<|python_tag|>{"name": "f", "parameters": {"a": 1',
    "pythonic": "[f(a=1), g(b='x'",
    "mistral": '[TOOL_CALLS] [{"name": "f", "arguments": {"a": 1}},',
    "lfm2": "<|tool_call_start|>[f(a=1)",
    "phi4_mini": "functools[{'name': 'f', 'arguments': {'a': 1}}]",
    "deepseek_v3": "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"a\": 1,}\n```<｜tool▁call▁end｜>",
    "xlam": '[{"name": "f", "arguments": {"a": 1}}, ',
}


@pytest.mark.parametrize("family", FAMILIES)
def test_every_parser_says_when_it_repaired(family):
    text = REPAIRABLE[family]
    lenient = parse_output(family, text)
    assert lenient.calls and lenient.calls[0] == {"name": "f", "arguments": {"a": 1}}
    assert not lenient.strict and lenient.repairs, lenient
    assert get_parser(family)(text) == lenient.calls          # the default reader repairs (teacher output)
    with pytest.raises(ParseError) as exc:
        get_parser(family, strict=True)(text)
    assert exc.value.code == "repaired"


@pytest.mark.parametrize("family", FAMILIES)
def test_hostile_output_is_refused_with_a_code_not_a_crash(family):
    for text, code in (("x" * 1_100_000, "too_large"),):
        with pytest.raises(ParseError) as exc:
            parse_output(family, text)
        assert exc.value.code == code


@pytest.mark.parametrize(("text", "code"), [
    ("[f(x=" + "-" * 100_000 + "1)]", "too_deep"),
    ("[" + "a." * 100_000 + "f(x=1)]", "too_deep"),
    ("[f(x=" + "1+" * 100_000 + "1)]", "too_deep"),
    ("[f(x=" + "not " * 100_000 + "1)]", "too_deep"),
    ("[f(x=" + "(" * 10_000 + "1" + ")" * 10_000 + ")]", "too_deep"),
    ("[f(x=1e999)]", "json_invalid"), ("[f(x=-1e999)]", "json_invalid"), ("[f(x=0x" + "f" * 4000 + ")]", "json_invalid"),
])
def test_pythonic_limits(text, code):
    for family in ("pythonic", "lfm2"):
        body = text if family == "pythonic" else "<|tool_call_start|>" + text + "<|tool_call_end|>"
        with pytest.raises(ParseError) as exc:
            parse_output(family, body)
        assert exc.value.code == code, (family, str(exc.value))


def test_reasoning_and_content_are_split_from_calls():
    p = parse_output("hermes", "<think>plan</think>Sure.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>")
    assert (p.reasoning, p.content, p.calls) == ("plan", "Sure.", [{"name": "f", "arguments": {}}])
    assert split_reasoning("opened in the prompt</think>answer") == ("opened in the prompt", "answer")
    assert split_reasoning("no reasoning") == (None, "no reasoning")
    d = parse_output("mistral", '[TOOL_CALLS] [{"name": "f", "arguments": {}}] trailing words').to_dict()
    assert d == {"calls": [{"name": "f", "arguments": {}}], "content": "trailing words", "reasoning": None,
                 "strict": True, "repairs": []}


def test_phi4_mini_reads_the_llama_cpp_template_form():
    from toolforge.formats import get_renderer

    text = ('<|system|>Tools<|tool|>{"name": "f"}<|/tool|>You are a helpful assistant with some tools.\n'
            'To use a tool, respond in this format: <|tool_call|>{"name": "foo", "arguments": {"a": 1}}<|/tool_call|><|end|>'
            '<|user|>hi<|end|><|assistant|>On it.<|tool_call|>{"name": "f", "arguments": {"b": "x"}}<|/tool_call|><|end|>')
    assert get_parser("phi4_mini")(text) == [{"name": "f", "arguments": {"b": "x"}}]  # not the example in the system turn
    assert get_renderer("phi4_mini")  # the renderer keeps the functools form
