"""The conformance corpus: model outputs every family parser must read, with their sources.

Each case records where its text comes from as ``repo/path@commit``: the tool-parser tests of
vLLM (the model outputs and expectations those tests use, copied as written; a few adapted,
and marked so), and cases written for toolforge in the format a real template or parser
test shows (marked ``toolforge``, with the format's source). The expectations are
toolforge's: the calls, the non-call content where the case checks it, and whether the
reading is strict. A malformed output's expectation is the strict reading's verdict
(``error``: the ParseError code strict parsing raises), since ``toolforge eval`` scores the
strict reading; ``lenient`` gives what the repairing reader (used on teacher output) makes
of it. Turns rendered by the real templates are in :mod:`tests.conformance.rendered`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VLLM = "vllm-project/vllm"
LLAMA_CPP = "ggml-org/llama.cpp"


def src(repo: str, path: str, commit: str) -> str:
    return f"{repo}/{path}@{commit}"


HERMES_TEST2 = src(VLLM, "tests/tool_parsers/test_hermes_tool_parser.py", "0eb73d6a09be117cdd0d4da4d6239321001c0d0c")
HERMES_TEST = src(VLLM, "tests/entrypoints/openai/tool_parsers/test_hermes_tool_parser.py", "06b888c80fff8f1903c5de5c0b9df9b575a4c698")
LLAMA3_TEST = src(VLLM, "tests/entrypoints/openai/tool_parsers/test_llama3_json_tool_parser.py", "11c4d92a1f62ecc9ace8e3ad82bf9aee2381b373")
PYTHONIC_TEST = src(VLLM, "tests/entrypoints/openai/tool_parsers/test_pythonic_tool_parser.py", "0bed603d5ea1746fc9c1db95b92930cf406f88a8")
MISTRAL_TEST = src(VLLM, "tests/tool_use/test_mistral_tool_parser.py", "170a04e47a3b7b3286e2e8ff36014a230b61b07e")
PHI4_TEST = src(VLLM, "tests/entrypoints/openai/tool_parsers/test_phi4mini_tool_parser.py", "2ad377dbbdbd8d8929eeaebc1e30f7fbbe0eea51")
DEEPSEEK_TEST = src(VLLM, "tests/entrypoints/openai/tool_parsers/test_deepseekv3_tool_parser.py", "27cd24deb388479aeb84a85875c5728de37e1195")
XLAM_TEST = src(VLLM, "tests/tool_use/test_xlam_tool_parser.py", "063345cac6c62c5d00d369d93eb75bba6a169162")
LFM2_TEST = src(VLLM, "tests/tool_parsers/test_lfm2_tool_parser.py", "011cde7c177a29bbcb0052d80e5ab7671a70f634")
LFM2_TEMPLATE = src(LLAMA_CPP, "models/templates/llama-cpp-lfm2.jinja", "3700b6f7b10b67844b61a196c32218d2558e6099")
PHI4_TEMPLATE = src(LLAMA_CPP, "models/templates/llama-cpp-microsoft-Phi-4-mini-instruct.jinja", "6d7822c18b5bc43c0053f09cf0eba66bd7e78a93")
HERMES_TEMPLATE = src(VLLM, "examples/tool_chat_template_hermes.jinja", "66aa580a8fe3c6d73fdecc9abb387f5dcf33a321")
DEEPSEEK_TEMPLATE = src(VLLM, "examples/tool_chat_template_deepseekv3.jinja", "7531ada7db299214b688d5ea9a316572863edccf")
ISSUE_13 = "toolforge issue #13 (the truncated hermes call it quotes)"


def toolforge(fmt_source: str) -> str:
    return f"toolforge (written for this corpus; format as in {fmt_source})"


@dataclass
class Case:
    family: str
    id: str
    source: str
    text: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    content: str | None = None          # the non-call content, where the case checks it
    reasoning: str | None = None        # a substring of the reasoning, where the case checks it
    error: str | None = None            # the strict reading's ParseError code, for malformed output
    lenient: list[dict[str, Any]] | None = None  # the repairing reader's calls, where it can read them
    tags: tuple[str, ...] = ()


def c(_name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": _name, "arguments": arguments}


DT = dict(string_field="hello", int_field=42, float_field=3.14, bool_field=True, null_field=None,
          array_field=["a", "b", "c"], object_field={"nested": "value"}, empty_array=[], empty_object={})
WEATHER_SF = c("get_current_weather", city="San Francisco", state="CA", unit="celsius")
DALLAS = c("get_current_weather", city="Dallas", state="TX", unit="fahrenheit")
MAAEMO = '<tool_call>\n{"name": "book_table", "arguments": {"restaurant": "Maaemo", "party_size": 2,\n</tool_call>'

CASES: list[Case] = [
    # ---------------------------------------------------------------- hermes (Hermes, Qwen2.5/3)
    Case("hermes", "vllm-qwq-reasoning-unicode", HERMES_TEST + " (NO_STREAM_FUNCTION_OUTPUT, reasoning shortened)",
         "好的，用户现在要研发一个5MW的燃气轮机，需要确定总体参数，比如空气流量、压气机压比、转速、燃烧室出口温度、压气机级数和支点布局。"
         "\n\n可能需要调用互联网搜索工具来查找5MW燃气轮机的设计参数。\n</think>\n\n<tool_call>"
         '\n{"name": "internet_search", "arguments": {"question": "5MW燃气轮机设计参数 空气流量 压气机压比 转速 燃烧室出口温度 压气机级数 支点布局"}}'
         "\n</tool_call>\n\n ",
         [c("internet_search", question="5MW燃气轮机设计参数 空气流量 压气机压比 转速 燃烧室出口温度 压气机级数 支点布局")],
         content="", reasoning="燃气轮机", tags=("reasoning", "unicode")),
    Case("hermes", "vllm-just-forward-text", HERMES_TEST2 + " (test_hermes_parser_streaming_just_forward_text)",
         "This is some prior text that has nothing to do with tool calling.", [],
         content="This is some prior text that has nothing to do with tool calling.", tags=("no_call",)),
    Case("hermes", "vllm-between-tags", HERMES_TEST2 + " (test_hermes_parser_non_streaming_tool_call_between_tags)",
         '<tool_call>\n{"name": "final_answer", "arguments": {"trigger": true}}\n</tool_call>',
         [c("final_answer", trigger=True)], content=""),
    Case("hermes", "vllm-until-eos", HERMES_TEST2 + " (test_hermes_parser_non_streaming_tool_call_until_eos: no closing tag)",
         '<tool_call>\n{"name": "final_answer", "arguments": {"trigger": true}}', [c("final_answer", trigger=True)]),
    Case("hermes", "vllm-invalid-json-missing-brace", HERMES_TEST2 + " (test_hermes_parser_non_streaming_tool_call_invalid_json)",
         '<tool_call>\n{"name": "final_answer", "arguments": {"trigger": true}', error="repaired",
         lenient=[c("final_answer", trigger=True)], tags=("truncation",)),
    Case("hermes", "vllm-line-broken-json", HERMES_TEST2 + " (test_hermes_parser_streaming text)",
         '<tool_call>{"name": "get_current_temperature","arguments": {"location":"San Francisco, California, United States", '
         '"unit": "celsius"}}</tool_call>',
         [c("get_current_temperature", location="San Francisco, California, United States", unit="celsius")]),
    Case("hermes", "vllm-content-then-call", HERMES_TEST2 + " (test_hermes_streaming_content_then_tool_call_with_stream_interval)",
         'Sure, let me check the weather.<tool_call>{"name": "get_weather", "arguments": {"city": "NYC"}}</tool_call>',
         [c("get_weather", city="NYC")], content="Sure, let me check the weather.", tags=("content",)),
    Case("hermes", "vllm-multiple-calls", HERMES_TEST2 + " (test_hermes_streaming_multiple_tool_calls_with_stream_interval)",
         '<tool_call>{"name": "search", "arguments": {"q": "cats"}}</tool_call>'
         '<tool_call>{"name": "search", "arguments": {"q": "dogs"}}</tool_call>',
         [c("search", q="cats"), c("search", q="dogs")], tags=("parallel",)),
    Case("hermes", "vllm-serialized-arguments", HERMES_TEST2 + " (test_hermes_parser_non_streaming_serialized_arguments)",
         '<tool_call>\n{"name": "get_db_config", "arguments": "{\\"param\\": \\"max_connections\\"}"}\n</tool_call>',
         [c("get_db_config", param="max_connections")], tags=("escapes",)),
    Case("hermes", "vllm-bare-string-arguments", HERMES_TEST2 + " (test_hermes_parser_non_streaming_bare_string_arguments: "
         "arguments must be an object)", '<tool_call>\n{"name": "do_thing", "arguments": "hello"}\n</tool_call>',
         error="parse_error", tags=("malformed",)),
    Case("hermes", "truncated-json-issue-13", ISSUE_13, MAAEMO, error="repaired",
         lenient=[c("book_table", restaurant="Maaemo", party_size=2)], tags=("truncation",)),
    Case("hermes", "content-before-and-after", toolforge(HERMES_TEMPLATE),
         'Let me look that up.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>\nOne moment.',
         [c("get_weather", city="Oslo")], content="Let me look that up.\n\nOne moment.", tags=("content",)),
    Case("hermes", "parallel-qwen", toolforge(HERMES_TEMPLATE),
         '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>\n'
         '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Bergen"}}\n</tool_call>',
         [c("get_weather", city="Oslo"), c("get_weather", city="Bergen")], content="", tags=("parallel",)),
    Case("hermes", "think-block-mentions-tags", toolforge(HERMES_TEMPLATE),
         "<think>\nI could write <tool_call> here, but first check the city.\n</think>\n\n"
         '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tromsø"}}\n</tool_call>',
         [c("get_weather", city="Tromsø")], content="", reasoning="first check the city", tags=("reasoning", "unicode")),
    Case("hermes", "escapes", toolforge(HERMES_TEMPLATE),
         '<tool_call>\n{"name": "send", "arguments": {"text": "He said \\"hi\\"\\nbye", "path": "C:\\\\tmp", "emoji": "\\ud83c\\udf89"}}\n</tool_call>',
         [c("send", text='He said "hi"\nbye', path="C:\\tmp", emoji="🎉")], tags=("escapes", "unicode")),
    Case("hermes", "arguments-before-name-vllm-template-form", toolforge(HERMES_TEMPLATE),
         '<tool_call>\n{ "arguments": {"q": "x"}, "name": "search"}\n</tool_call> ', [c("search", q="x")]),
    Case("hermes", "no-call", toolforge(HERMES_TEMPLATE), "It is 4 °C in Oslo right now.", [],
         content="It is 4 °C in Oslo right now.", tags=("no_call",)),
    Case("hermes", "trailing-comma", toolforge(HERMES_TEMPLATE),
         '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo",}}\n</tool_call>', error="repaired",
         lenient=[c("get_weather", city="Oslo")], tags=("malformed",)),
    Case("hermes", "nan-is-not-json", toolforge(HERMES_TEMPLATE),
         '<tool_call>\n{"name": "f", "arguments": {"x": NaN}}\n</tool_call>', error="json_invalid", tags=("malformed",)),
    # ---------------------------------------------------------------- llama3_json
    Case("llama3_json", "vllm-simple-with-text", LLAMA3_TEST + " (test_extract_tool_calls_simple)",
         'Here is the result: {"name": "getOpenIncidentsTool", "parameters": {}} Would you like to know more?',
         [c("getOpenIncidentsTool")], content="Here is the result:  Would you like to know more?", tags=("content",)),
    Case("llama3_json", "vllm-with-arguments", LLAMA3_TEST + " (test_extract_tool_calls_with_arguments)",
         '{"name": "searchTool", "parameters": {"query": "test query", "limit": 10}}', [c("searchTool", query="test query", limit=10)]),
    Case("llama3_json", "vllm-no-json", LLAMA3_TEST + " (test_extract_tool_calls_no_json)",
         "This is just some text without any tool calls", [], content="This is just some text without any tool calls",
         tags=("no_call",)),
    Case("llama3_json", "vllm-invalid-json", LLAMA3_TEST + " (test_extract_tool_calls_invalid_json)",
         '{"name": "invalidTool", "parameters": {invalid json}', error="parse_error", tags=("malformed",)),
    Case("llama3_json", "vllm-arguments-key", LLAMA3_TEST + " (test_extract_tool_calls_with_arguments_key)",
         '{"name": "searchTool", "arguments": {"query": "test"}}', [c("searchTool", query="test")]),
    Case("llama3_json", "vllm-multiple-json", LLAMA3_TEST + " (test_extract_tool_calls_multiple_json)",
         '{"name": "searchTool", "parameters": {"query": "test1"}}; {"name": "getOpenIncidentsTool", "parameters": {}}; '
         '{"name": "searchTool", "parameters": {"query": "test2"}}',
         [c("searchTool", query="test1"), c("getOpenIncidentsTool"), c("searchTool", query="test2")], tags=("parallel",)),
    Case("llama3_json", "vllm-multiple-json-whitespace", LLAMA3_TEST + " (test_extract_tool_calls_multiple_json_with_whitespace)",
         '{"name": "searchTool", "parameters": {"query": "test1"}} ; {"name": "getOpenIncidentsTool", "parameters": {}} ; '
         '{"name": "searchTool", "parameters": {"query": "test2"}}',
         [c("searchTool", query="test1"), c("getOpenIncidentsTool"), c("searchTool", query="test2")], tags=("parallel",)),
    Case("llama3_json", "vllm-multiple-json-surrounding-text", LLAMA3_TEST + " (test_extract_tool_calls_multiple_json_with_surrounding_text)",
         'Here are the results: {"name": "searchTool", "parameters": {"query": "test1"}}; '
         '{"name": "getOpenIncidentsTool", "parameters": {}}; {"name": "searchTool", "parameters": {"query": "test2"}} '
         "Would you like to know more?",
         [c("searchTool", query="test1"), c("getOpenIncidentsTool"), c("searchTool", query="test2")],
         tags=("parallel", "content")),
    Case("llama3_json", "vllm-deeply-nested", LLAMA3_TEST + " (test_extract_tool_calls_deeply_nested_json)",
         '{"name": "complexTool", "parameters": {"level1": {"level2": {"level3": {"level4": {"value": "deep"}}}}}}',
         [c("complexTool", level1={"level2": {"level3": {"level4": {"value": "deep"}}}})]),
    Case("llama3_json", "vllm-multiple-deep-nesting", LLAMA3_TEST + " (test_extract_tool_calls_multiple_with_deep_nesting)",
         '{"name": "simpleTool", "parameters": {"value": "test"}}; '
         '{"name": "complexTool", "parameters": {"config": {"database": {"connection": {"pool": {"size": 10}}}}}}',
         [c("simpleTool", value="test"), c("complexTool", config={"database": {"connection": {"pool": {"size": 10}}}})]),
    Case("llama3_json", "vllm-brackets-in-strings", LLAMA3_TEST + " (test_extract_tool_calls_with_quotes_and_brackets_in_string)",
         '{"name": "searchTool", "parameters": {"query": "test {value} [complex]","nested": {"inner": "more {brackets}"}}}',
         [c("searchTool", query="test {value} [complex]", nested={"inner": "more {brackets}"})], tags=("escapes",)),
    Case("llama3_json", "vllm-escaped-quotes", LLAMA3_TEST + " (test_extract_tool_calls_with_escaped_quotes_in_nested_json)",
         '{"name": "parserTool", "parameters": {"text": "He said \\"Hello {world}\\""}}',
         [c("parserTool", text='He said "Hello {world}"')], tags=("escapes",)),
    Case("llama3_json", "python-tag-truncated", toolforge(LLAMA3_TEST),
         '<|python_tag|>{"name": "searchTool", "parameters": {"query": "tes', error="repaired",
         lenient=[c("searchTool", query="tes")], tags=("truncation",)),
    # ---------------------------------------------------------------- pythonic (Llama 3.2/4, ToolACE)
    Case("pythonic", "vllm-no-tool-call", PYTHONIC_TEST + " (test_no_tool_call)", "How can I help you today?", [],
         content="How can I help you today?", tags=("no_call",)),
    Case("pythonic", "vllm-simple", PYTHONIC_TEST + " (simple_nonstreaming)",
         "[get_weather(city='San Francisco', metric='celsius')]", [c("get_weather", city="San Francisco", metric="celsius")],
         content=""),
    Case("pythonic", "vllm-more-types", PYTHONIC_TEST + " (more_types_nonstreaming)",
         "[register_user(name='John Doe', age=37, address={'city': 'San Francisco', 'state': 'CA'}, role=None, "
         "passed_test=True, aliases=['John', 'Johnny'])]",
         [c("register_user", name="John Doe", age=37, address={"city": "San Francisco", "state": "CA"}, role=None,
            passed_test=True, aliases=["John", "Johnny"])]),
    Case("pythonic", "vllm-parameterless", PYTHONIC_TEST + " (parameterless_nonstreaming)", "[get_weather()]", [c("get_weather")]),
    Case("pythonic", "vllm-empty-dict", PYTHONIC_TEST + " (empty_dict_nonstreaming)", "[do_something_cool(additional_data={})]",
         [c("do_something_cool", additional_data={})]),
    Case("pythonic", "vllm-empty-list", PYTHONIC_TEST + " (empty_list_nonstreaming)", "[do_something_cool(steps=[])]",
         [c("do_something_cool", steps=[])]),
    Case("pythonic", "vllm-escaped-string", PYTHONIC_TEST + " (escaped_string_nonstreaming)",
         r"""[get_weather(city='Martha\'s Vineyard', metric='\"cool units\"')]""",
         [c("get_weather", city="Martha's Vineyard", metric='"cool units"')], tags=("escapes",)),
    Case("pythonic", "vllm-parallel", PYTHONIC_TEST + " (parallel_calls_nonstreaming)",
         "[get_weather(city='San Francisco', metric='celsius'), register_user(name='John Doe', age=37, "
         "address={'city': 'San Francisco', 'state': 'CA'}, role=None, passed_test=True, aliases=['John', 'Johnny'])]",
         [c("get_weather", city="San Francisco", metric="celsius"),
          c("register_user", name="John Doe", age=37, address={"city": "San Francisco", "state": "CA"}, role=None,
            passed_test=True, aliases=["John", "Johnny"])], tags=("parallel",)),
    Case("pythonic", "vllm-large-steps-joined", PYTHONIC_TEST + " (test_streaming_tool_call_with_large_steps, deltas joined)",
         "[get_weather(city='San Francisco', metric='celsius'), get_weather(), do_something_cool(steps=[])]",
         [c("get_weather", city="San Francisco", metric="celsius"), c("get_weather"), c("do_something_cool", steps=[])]),
    Case("pythonic", "vllm-regex-timeout-input", PYTHONIC_TEST + " (test_regex_timeout_handling input)",
         "hello world[A(A=" + "\t)A(A=,\t" * 2, error="parse_error", tags=("malformed",)),
    Case("pythonic", "truncated-list", toolforge(PYTHONIC_TEST), "[get_weather(city='San Francisco', metric='cel",
         error="repaired", lenient=[c("get_weather", city="San Francisco", metric="cel")], tags=("truncation",)),
    Case("pythonic", "1e999-is-not-json", "toolforge issue #13", "[f(x=1e999)]", error="json_invalid", tags=("malformed",)),
    Case("pythonic", "unicode-and-text-around", toolforge(PYTHONIC_TEST), "Sure. [translate(text='¿Dónde está?', target='日本語')] Done.",
         [c("translate", text="¿Dónde está?", target="日本語")], content="Sure.  Done.", tags=("unicode", "content")),
    Case("pythonic", "no-positional-arguments", toolforge(PYTHONIC_TEST), "[get_weather('Oslo')]", error="parse_error",
         tags=("malformed",)),
    # ---------------------------------------------------------------- mistral
    Case("mistral", "vllm-no-tools", MISTRAL_TEST + " (test_extract_tool_calls_no_tools)", "This is a test", [],
         content="This is a test", tags=("no_call",)),
    Case("mistral", "vllm-single-tool-add", MISTRAL_TEST + " (single_tool_add)",
         '[TOOL_CALLS][{"name": "add", "arguments":{"a": 3.5, "b": 4}}]', [c("add", a=3.5, b=4)], content=""),
    Case("mistral", "vllm-single-tool-weather", MISTRAL_TEST + " (single_tool_weather)",
         '[TOOL_CALLS] [{"name": "get_current_weather", "arguments":{"city": "San Francisco", "state": "CA", "unit": "celsius"}}]',
         [WEATHER_SF]),
    Case("mistral", "vllm-argument-before-name", MISTRAL_TEST + " (argument_before_name)",
         '[TOOL_CALLS] [{"arguments":{"city": "San Francisco", "state": "CA", "unit": "celsius"}, "name": "get_current_weather"}]',
         [WEATHER_SF]),
    Case("mistral", "vllm-name-in-argument", MISTRAL_TEST + " (argument_before_name_and_name_in_argument)",
         '[TOOL_CALLS] [{"arguments":{"name": "John Doe"}, "name": "get_age"}]', [c("get_age", name="John Doe")]),
    Case("mistral", "vllm-v11-add", MISTRAL_TEST + " (test_extract_tool_calls_v11_tokenizer single_tool_add)",
         '[TOOL_CALLS]add{"a": 3.5, "b": 4}', [c("add", a=3.5, b=4)]),
    Case("mistral", "vllm-v11-weather", MISTRAL_TEST + " (test_extract_tool_calls_v11_tokenizer single_tool_weather)",
         '[TOOL_CALLS]get_current_weather{"city": "San Francisco", "state": "CA", "unit": "celsius"}', [WEATHER_SF]),
    Case("mistral", "vllm-spaces", MISTRAL_TEST + " (streaming single_tool_add)",
         '[TOOL_CALLS]  [ {"name":"add" , "arguments" : {"a": 3, "b": 4} } ]', [c("add", a=3, b=4)]),
    Case("mistral", "vllm-string-arguments", MISTRAL_TEST + " (streaming single_tool_add_strings)",
         '[TOOL_CALLS] [{"name": "add", "arguments":{"a": "3", "b": "4"}}]', [c("add", a="3", b="4")]),
    Case("mistral", "vllm-multiple-tools-missing-brace", MISTRAL_TEST + " (streaming multiple_tools: the list lacks a closing brace)",
         '[TOOL_CALLS][{"name": "add", "arguments": {"a": 3.5, "b": 4}}, {"name": "get_current_weather", '
         '"arguments":{"city": "San Francisco", "state": "CA", "unit": "celsius"}]',
         error="parse_error", tags=("malformed", "parallel")),
    Case("mistral", "trailing-text-after-list", "toolforge issue #13",
         '[TOOL_CALLS] [{"name": "add", "arguments": {"a": 1, "b": 2}}] I have called the add tool.',
         [c("add", a=1, b=2)], content="I have called the add tool.", tags=("content",)),
    Case("mistral", "content-before", toolforge(MISTRAL_TEST),
         'Checking now. [TOOL_CALLS][{"name": "add", "arguments": {"a": 1, "b": 2}}]</s>', [c("add", a=1, b=2)],
         content="Checking now.", tags=("content",)),
    Case("mistral", "truncated-list", toolforge(MISTRAL_TEST), '[TOOL_CALLS] [{"name": "add", "arguments": {"a": 1, "b": 2',
         error="repaired", lenient=[c("add", a=1, b=2)], tags=("truncation",)),
    Case("mistral", "unicode-escapes", toolforge(MISTRAL_TEST),
         '[TOOL_CALLS] [{"name": "say", "arguments": {"text": "Grüße \\"dich\\" – 你好\\n"}}]',
         [c("say", text='Grüße "dich" – 你好\n')], tags=("unicode", "escapes")),
    # ---------------------------------------------------------------- lfm2 (Liquid LFM2)
    Case("lfm2", "vllm-no-tool-call", LFM2_TEST + " (test_no_tool_call)", "How can I help you today?", [],
         content="How can I help you today?", tags=("no_call",)),
    Case("lfm2", "vllm-simple", LFM2_TEST + " (simple_nonstreaming)",
         "<|tool_call_start|>[get_candidate_status(candidate_id='12345')]<|tool_call_end|>",
         [c("get_candidate_status", candidate_id="12345")], content=""),
    Case("lfm2", "vllm-more-types", LFM2_TEST + " (more_types_nonstreaming)",
         "<|tool_call_start|>[register_user(name='John Doe', age=37, address={'city': 'San Francisco', 'state': 'CA'}, "
         "role=None, passed_test=True, aliases=['John', 'Johnny'])]<|tool_call_end|>",
         [c("register_user", name="John Doe", age=37, address={"city": "San Francisco", "state": "CA"}, role=None,
            passed_test=True, aliases=["John", "Johnny"])]),
    Case("lfm2", "vllm-parameterless", LFM2_TEST + " (parameterless_nonstreaming)",
         "<|tool_call_start|>[get_weather()]<|tool_call_end|>", [c("get_weather")]),
    Case("lfm2", "vllm-empty-dict-and-list", LFM2_TEST + " (empty_dict_nonstreaming, empty_list_nonstreaming in one block)",
         "<|tool_call_start|>[do_something_cool(additional_data={}), do_something_cool(steps=[])]<|tool_call_end|>",
         [c("do_something_cool", additional_data={}), c("do_something_cool", steps=[])], tags=("parallel",)),
    Case("lfm2", "vllm-escaped-string", LFM2_TEST + " (escaped_string_nonstreaming)",
         "<|tool_call_start|>[" + r"""get_weather(city='Martha\'s Vineyard', metric='\"cool units\"')""" + "]<|tool_call_end|>",
         [c("get_weather", city="Martha's Vineyard", metric='"cool units"')], tags=("escapes",)),
    Case("lfm2", "vllm-content-after", LFM2_TEST + " (content_after_tool_call_nonstreaming)",
         "<|tool_call_start|>[get_candidate_status(candidate_id='12345')]<|tool_call_end|>\n"
         "Checking the current status of candidate ID 12345.",
         [c("get_candidate_status", candidate_id="12345")],
         content="Checking the current status of candidate ID 12345.", tags=("content",)),
    Case("lfm2", "vllm-dotted-name", LFM2_TEST + " (dotted_name_nonstreaming)",
         "<|tool_call_start|>[grocery.orderIngredients(ingredientList=[{'name': 'Lasagna noodles', 'amount': 250, "
         "'unit': 'g'}], deliveryAddress='845 Willow Lane, Springfield, IL 62704')]<|tool_call_end|>",
         [c("grocery.orderIngredients", ingredientList=[{"name": "Lasagna noodles", "amount": 250, "unit": "g"}],
            deliveryAddress="845 Willow Lane, Springfield, IL 62704")]),
    Case("lfm2", "vllm-bracket-in-string", LFM2_TEST + " (bracket_in_string_nonstreaming)",
         "<|tool_call_start|>[exec(command='grep -F \"]\" log.txt')]<|tool_call_end|>",
         [c("exec", command='grep -F "]" log.txt')], tags=("escapes",)),
    Case("lfm2", "vllm-set-argument", LFM2_TEST + " (set_arg_nonstreaming: a set becomes a list)",
         "<|tool_call_start|>[label(tags={'urgent', 'bug'})]<|tool_call_end|>", [c("label", tags=["urgent", "bug"])]),
    Case("lfm2", "vllm-empty-block", LFM2_TEST + " (test_empty_tool_call_block)",
         "<|tool_call_start|>[ ]<|tool_call_end|>", [], tags=("no_call",)),
    Case("lfm2", "vllm-whitespace-after-start", LFM2_TEST + " (test_whitespace_after_start_token)",
         "<|tool_call_start|> [get_candidate_status(candidate_id='12345')]<|tool_call_end|>",
         [c("get_candidate_status", candidate_id="12345")]),
    # vLLM's LFM2 parser recovers these by rewriting the text; they are not Python as written, so the
    # strict reading (what eval scores) refuses them
    Case("lfm2", "vllm-leading-zero-int", LFM2_TEST + " (leading_zero_int_nonstreaming; vLLM repairs it)",
         "<|tool_call_start|>[set_date(month=07, day=05)]<|tool_call_end|>", error="parse_error", tags=("malformed",)),
    Case("lfm2", "vllm-raw-newline-in-string", LFM2_TEST + " (multiline_string_arg_nonstreaming; vLLM repairs it)",
         "<|tool_call_start|>[exec(command='cat > f.py << EOF\nimport csv\nprint(1)\nEOF')]<|tool_call_end|>",
         error="parse_error", tags=("malformed",)),
    Case("lfm2", "vllm-nul-byte", LFM2_TEST + " (nul_byte_string_arg_nonstreaming; vLLM repairs it)",
         "<|tool_call_start|>[exec(command='printf a\x00b')]<|tool_call_end|>", error="parse_error", tags=("malformed",)),
    Case("lfm2", "vllm-bad-sibling", LFM2_TEST + " (test_bad_sibling_call_does_not_drop_good_calls; vLLM keeps the good call)",
         "<|tool_call_start|>[get_candidate_status(candidate_id='12345'), bad(x=b'z')]<|tool_call_end|>",
         error="parse_error", tags=("malformed",)),
    Case("lfm2", "pythonic-single", toolforge(LFM2_TEMPLATE + " and LFM2's pythonic tool-call form"),
         '<|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>', [c("get_weather", city="Paris")], content=""),
    Case("lfm2", "pythonic-parallel-content-after", toolforge(LFM2_TEMPLATE + " and LFM2's pythonic tool-call form"),
         "<|tool_call_start|>[get_weather(city='Paris'), get_weather(city='Tokyo')]<|tool_call_end|>Checking both cities.",
         [c("get_weather", city="Paris"), c("get_weather", city="Tokyo")], content="Checking both cities.",
         tags=("parallel", "content")),
    Case("lfm2", "json-form-as-llama-cpp-template-writes", toolforge(LFM2_TEMPLATE),
         '<|tool_call_start|>[{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_1"}]<|tool_call_end|>',
         [c("get_weather", city="Paris")]),
    Case("lfm2", "typed-arguments", toolforge(LFM2_TEMPLATE),
         '<|tool_call_start|>[get_weather(city="Madrid", days=3, metric=True, note=None)]<|tool_call_end|>',
         [c("get_weather", city="Madrid", days=3, metric=True, note=None)]),
    Case("lfm2", "reasoning-then-call", toolforge(LFM2_TEMPLATE),
         "<think>The user wants Paris.</think><|tool_call_start|>[get_weather(city='Paris')]<|tool_call_end|>",
         [c("get_weather", city="Paris")], content="", reasoning="wants Paris", tags=("reasoning",)),
    Case("lfm2", "unicode-escapes", toolforge(LFM2_TEMPLATE),
         "<|tool_call_start|>[note(text='Ça va? \\'oui\\' — 東京\\n')]<|tool_call_end|>",
         [c("note", text="Ça va? 'oui' — 東京\n")], tags=("unicode", "escapes")),
    Case("lfm2", "truncated", toolforge(LFM2_TEMPLATE), "<|tool_call_start|>[get_weather(city='Par", error="repaired",
         lenient=[c("get_weather", city="Par")], tags=("truncation",)),
    # ---------------------------------------------------------------- phi4_mini
    Case("phi4_mini", "vllm-no-tool-calls", PHI4_TEST + " (no_tool_calls_output)", "This is a regular response without any tool calls.",
         [], content="This is a regular response without any tool calls.", tags=("no_call",)),
    Case("phi4_mini", "vllm-single", PHI4_TEST + " (single_tool_call_output)",
         'functools[{"name": "get_weather", "arguments": {"city": "Tokyo"}}]', [c("get_weather", city="Tokyo")], content=""),
    Case("phi4_mini", "vllm-parallel", PHI4_TEST + " (parallel_tool_calls_output)",
         'functools[\n  {"name": "get_weather", "arguments": {"city": "Tokyo"}},\n  {"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}\n]',
         [c("get_weather", city="Tokyo"), c("get_time", timezone="Asia/Tokyo")], tags=("parallel",)),
    Case("phi4_mini", "vllm-various-types", PHI4_TEST + " (various_data_types_output)",
         'functools[{\n  "name": "test_function",\n  "arguments": {\n    "string_field": "hello",\n    "int_field": 42,\n'
         '    "float_field": 3.14,\n    "bool_field": true,\n    "null_field": null,\n    "array_field": ["a", "b", "c"],\n'
         '    "object_field": {"nested": "value"},\n    "empty_array": [],\n    "empty_object": {}\n  }\n}]',
         [c("test_function", **DT)]),
    Case("phi4_mini", "vllm-empty-arguments", PHI4_TEST + " (empty_arguments_output)",
         'functools[{"name": "refresh", "arguments": {}}]', [c("refresh")]),
    Case("phi4_mini", "vllm-surrounding-text", PHI4_TEST + " (surrounding_text_output)",
         'Let me check the weather for you.\nfunctools[{"name": "get_weather", "arguments": {"city": "Tokyo"}}]\nWould you like to know more?',
         [c("get_weather", city="Tokyo")], content="Let me check the weather for you.\n\nWould you like to know more?",
         tags=("content",)),
    Case("phi4_mini", "vllm-escaped-strings", PHI4_TEST + " (escaped_strings_output)",
         'functools[{\n  "name": "test_function",\n  "arguments": {\n    "quoted": "He said \\"hello\\"",\n'
         '    "path": "C:\\\\Users\\\\file.txt",\n    "newline": "line1\\nline2",\n    "unicode": "emoji: 🎉"\n  }\n}]',
         [c("test_function", quoted='He said "hello"', path="C:\\Users\\file.txt", newline="line1\nline2", unicode="emoji: 🎉")],
         tags=("escapes", "unicode")),
    Case("phi4_mini", "vllm-malformed-truncated", PHI4_TEST + " (malformed_input_outputs[0])",
         'functools[{"name": "func", "arguments": {', error="repaired", lenient=[c("func")], tags=("truncation",)),
    Case("phi4_mini", "vllm-malformed-arguments-not-dict", PHI4_TEST + " (malformed_input_outputs[1])",
         'functools[{"name": "func", "arguments": "not a dict"}]', error="parse_error", tags=("malformed",)),
    Case("phi4_mini", "vllm-malformed-missing-brackets", PHI4_TEST + " (malformed_input_outputs[2]: no list, not a call)",
         'functools{"name": "func"}', [], tags=("malformed",)),
    Case("phi4_mini", "vllm-malformed-empty-list", PHI4_TEST + " (malformed_input_outputs[4])",
         "functools[] This is just text", [], content="This is just text", tags=("malformed",)),
    Case("phi4_mini", "vllm-malformed-invalid-json", PHI4_TEST + " (malformed_input_outputs[5])",
         "functools[ This is just text ]", error="parse_error", tags=("malformed",)),
    Case("phi4_mini", "llama-cpp-tool-call-tags", "toolforge issue #13; form as in " + PHI4_TEMPLATE,
         'Let me check.<|tool_call|>{"name": "get_weather", "arguments": {"city": "Tokyo"}}<|/tool_call|>',
         [c("get_weather", city="Tokyo")], content="Let me check.", tags=("content",)),
    Case("phi4_mini", "llama-cpp-tool-call-tags-parallel", toolforge(PHI4_TEMPLATE),
         '<|tool_call|>{"name": "get_weather", "arguments": {"city": "Tokyo"}}<|/tool_call|>'
         '<|tool_call|>{"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}<|/tool_call|>',
         [c("get_weather", city="Tokyo"), c("get_time", timezone="Asia/Tokyo")], tags=("parallel",)),
    Case("phi4_mini", "llama-cpp-tool-call-tags-truncated", toolforge(PHI4_TEMPLATE),
         '<|tool_call|>{"name": "get_weather", "arguments": {"city": "Tok', error="repaired",
         lenient=[c("get_weather", city="Tok")], tags=("truncation",)),
    # ---------------------------------------------------------------- deepseek_v3
    Case("deepseek_v3", "vllm-no-tool-calls", DEEPSEEK_TEST + " (no_tool_calls_output)",
         "How can I help you today? I can check weather for you.", [],
         content="How can I help you today? I can check weather for you.", tags=("no_call",)),
    Case("deepseek_v3", "vllm-single", DEEPSEEK_TEST + " (single_tool_call_output)",
         '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Tokyo", "unit": "celsius"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
         [c("get_weather", city="Tokyo", unit="celsius")], content=""),
    Case("deepseek_v3", "vllm-parallel", DEEPSEEK_TEST + " (parallel_tool_calls_output)",
         '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Tokyo", "unit": "celsius"}\n```<｜tool▁call▁end｜>'
         '<｜tool▁call▁begin｜>function<｜tool▁sep｜>search_hotels\n```json\n{"location": "Tokyo", "check_in": "2025-01-15"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
         [c("get_weather", city="Tokyo", unit="celsius"), c("search_hotels", location="Tokyo", check_in="2025-01-15")],
         tags=("parallel",)),
    Case("deepseek_v3", "vllm-various-types", DEEPSEEK_TEST + " (various_data_types_output)",
         '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>test_function\n```json\n'
         '{"string_field": "hello", "int_field": 42, "float_field": 3.14, "bool_field": true, "null_field": null, '
         '"array_field": ["a", "b", "c"], "object_field": {"nested": "value"}, "empty_array": [], "empty_object": {}}\n'
         '```<｜tool▁call▁end｜><｜tool▁calls▁end｜>', [c("test_function", **DT)]),
    Case("deepseek_v3", "vllm-empty-arguments", DEEPSEEK_TEST + " (empty_arguments_output)",
         '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_current_time\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
         [c("get_current_time")]),
    Case("deepseek_v3", "vllm-surrounding-text", DEEPSEEK_TEST + " (surrounding_text_output)",
         'Let me check the weather for you.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
         [c("get_weather", city="Paris")], content="Let me check the weather for you.", tags=("content",)),
    Case("deepseek_v3", "vllm-escaped-strings", DEEPSEEK_TEST + " (escaped_strings_output)",
         '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>send_message\n```json\n'
         '{"text": "He said \\"hello\\"", "path": "C:\\\\Users\\\\file", "newline": "line1\\nline2"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
         [c("send_message", text='He said "hello"', path="C:\\Users\\file", newline="line1\nline2")], tags=("escapes",)),
    Case("deepseek_v3", "vllm-malformed-unclosed-json", DEEPSEEK_TEST + " (malformed_input_outputs[0])",
         '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Tokyo"\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
         error="repaired", lenient=[c("get_weather", city="Tokyo")], tags=("malformed", "truncation")),
    Case("deepseek_v3", "vllm-malformed-no-call-begin", DEEPSEEK_TEST + " (malformed_input_outputs[1]: no call-begin token, no call)",
         '<｜tool▁calls▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Tokyo"}\n```<｜tool▁calls▁end｜>', [],
         tags=("malformed",)),
    Case("deepseek_v3", "v31-name-sep-json", toolforge(src(VLLM, "tests/tool_use/test_deepseekv31_tool_parser.py", "321315c880216c9da803e8986b7dac753dbac566")),
         '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "東京"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
         [c("get_weather", city="東京")], tags=("unicode",)),
    Case("deepseek_v3", "reasoning-then-call", toolforge(DEEPSEEK_TEMPLATE),
         '<think>Need the weather first.</think>\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
         [c("get_weather", city="Paris")], content="", reasoning="weather first", tags=("reasoning",)),
    # ---------------------------------------------------------------- xlam
    Case("xlam", "vllm-no-tools", XLAM_TEST + " (test_extract_tool_calls_no_tools)", "This is a test", [],
         content="This is a test", tags=("no_call",)),
    Case("xlam", "vllm-parallel", XLAM_TEST + " (parallel_tool_calls)",
         '[{"name": "get_current_weather", "arguments": {"city": "Dallas", "state": "TX", "unit": "fahrenheit"}}, '
         '{"name": "get_current_weather", "arguments": {"city": "Orlando", "state": "FL", "unit": "fahrenheit"}}]',
         [DALLAS, c("get_current_weather", city="Orlando", state="FL", unit="fahrenheit")], content="", tags=("parallel",)),
    Case("xlam", "vllm-think-tag", XLAM_TEST + " (single_tool_with_think_tag)",
         "<think>I'll help you with that.</think>"
         '[{"name": "get_current_weather", "arguments": {"city": "Dallas", "state": "TX", "unit": "fahrenheit"}}]',
         [DALLAS], content="", reasoning="help you", tags=("reasoning",)),
    Case("xlam", "vllm-json-code-block", XLAM_TEST + " (single_tool_with_json_code_block)",
         "I'll help you with that.\n```json\n"
         '[{"name": "get_current_weather", "arguments": {"city": "Dallas", "state": "TX", "unit": "fahrenheit"}}]\n```',
         [DALLAS], content="I'll help you with that.", tags=("content",)),
    Case("xlam", "vllm-tool-calls-tag", XLAM_TEST + " (single_tool_with_tool_calls_tag)",
         "I'll check the weather for you.[TOOL_CALLS]"
         '[{"name": "get_current_weather", "arguments": {"city": "Dallas", "state": "TX", "unit": "fahrenheit"}}]',
         [DALLAS], tags=("content",)),
    Case("xlam", "vllm-list-structure", XLAM_TEST + " (list_structured_tool_call)",
         '[{"name": "get_current_weather", "arguments": {"city": "Seattle", "state": "WA", "unit": "celsius"}}]',
         [c("get_current_weather", city="Seattle", state="WA", unit="celsius")]),
    Case("xlam", "truncated", toolforge(XLAM_TEST), '[{"name": "get_current_weather", "arguments": {"city": "Seattle"',
         error="repaired", lenient=[c("get_current_weather", city="Seattle")], tags=("truncation",)),
    Case("xlam", "unicode-escapes", toolforge(XLAM_TEST),
         '[{"name": "translate", "arguments": {"text": "naïve \\"café\\"\\t✓", "to": "de"}}]',
         [c("translate", text='naïve "café"\t✓', to="de")], tags=("unicode", "escapes")),
]
