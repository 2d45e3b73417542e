"""Turns rendered by real chat templates, for the conformance corpus.

The templates in ``templates/`` are copies of the files named in :data:`TEMPLATES`
(vLLM's ``examples/tool_chat_template_*.jinja`` and llama.cpp's ``models/templates``),
rendered here with transformers' chat-template semantics (sandboxed Jinja, ``trim_blocks``
and ``lstrip_blocks``, ``tojson`` keeping unicode, ``raise_exception``, ``strftime_now``),
so the test does not depend on toolforge's own renderers. Each family's parser must read
back every call of every assistant turn of each conversation the template can express.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.conformance.cases import LLAMA_CPP, VLLM, src

HERE = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Template:
    family: str
    file: str
    source: str
    bos: str = ""
    eos: str = ""
    string_arguments: bool = True   # can the template write a string argument readably?
    parallel: bool = True           # can it write two calls in one turn?


TEMPLATES = [
    Template("hermes", "tool_chat_template_hermes.jinja",
             src(VLLM, "examples/tool_chat_template_hermes.jinja", "66aa580a8fe3c6d73fdecc9abb387f5dcf33a321")),
    Template("llama3_json", "tool_chat_template_llama3.1_json.jinja",
             src(VLLM, "examples/tool_chat_template_llama3.1_json.jinja", "545227602f2569dfe61adb608beb7bb69fc55fa8"),
             bos="<|begin_of_text|>", parallel=False),
    Template("pythonic", "tool_chat_template_llama3.2_pythonic.jinja",
             src(VLLM, "examples/tool_chat_template_llama3.2_pythonic.jinja", "3a9445d9d68e3864449042702ce0316461b03e23"),
             bos="<|begin_of_text|>", string_arguments=False),
    Template("mistral", "tool_chat_template_mistral_parallel.jinja",
             src(VLLM, "examples/tool_chat_template_mistral_parallel.jinja", "9e21b671ed5d86d8ffc59f9758d8a37128a2bbea"),
             bos="<s>", eos="</s>"),
    Template("lfm2", "llama-cpp-lfm2.jinja",
             src(LLAMA_CPP, "models/templates/llama-cpp-lfm2.jinja", "3700b6f7b10b67844b61a196c32218d2558e6099"),
             bos="<|startoftext|>"),
    Template("phi4_mini", "llama-cpp-microsoft-Phi-4-mini-instruct.jinja",
             src(LLAMA_CPP, "models/templates/llama-cpp-microsoft-Phi-4-mini-instruct.jinja",
                 "6d7822c18b5bc43c0053f09cf0eba66bd7e78a93"), eos="<|endoftext|>"),
    Template("deepseek_v3", "tool_chat_template_deepseekv3.jinja",
             src(VLLM, "examples/tool_chat_template_deepseekv3.jinja", "7531ada7db299214b688d5ea9a316572863edccf"),
             bos="<｜begin▁of▁sentence｜>", eos="<｜end▁of▁sentence｜>"),
    Template("xlam", "tool_chat_template_xlam_qwen.jinja",
             src(VLLM, "examples/tool_chat_template_xlam_qwen.jinja", "31106f4f486decd092d235ea4b8a729ce5342158")),
]


def render(t: Template, messages: list[dict[str, Any]], tools: list[dict[str, Any]],
           add_generation_prompt: bool = False) -> str:
    """``apply_chat_template(..., tokenize=False)`` as transformers does it, without transformers."""
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateRefusal(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
               sort_keys: bool = False) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime(2024, 7, 26).strftime(fmt)
    template = env.from_string((HERE / t.file).read_text(encoding="utf-8"))
    return template.render(messages=messages, tools=tools, add_generation_prompt=add_generation_prompt,
                           bos_token=t.bos, eos_token=t.eos)


class TemplateRefusal(Exception):
    """The template raised (it cannot express the conversation)."""


TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city.",
                                      "parameters": {"type": "object", "properties": {
                                          "city": {"type": "string", "description": "City name."},
                                          "days": {"type": "integer", "description": "Forecast days."}},
                                          "required": ["city"]}}},
    {"type": "function", "function": {"name": "convert", "description": "Convert an amount.",
                                      "parameters": {"type": "object", "properties": {
                                          "amount": {"type": "number", "description": "The amount."},
                                          "rates": {"type": "object", "description": "Rates by code."},
                                          "codes": {"type": "array", "items": {"type": "string"}, "description": "Codes."},
                                          "exact": {"type": "boolean", "description": "Exact?"}},
                                          "required": ["amount"]}}},
]


def _call(cid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def _result(cid: str, name: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": cid, "name": name, "content": content}


#: name -> (messages, needs string arguments, needs parallel calls)
CONVERSATIONS: dict[str, tuple[list[dict[str, Any]], bool, bool]] = {
    "single-call-unicode-escapes": ([
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Wetter in Tromsø? Say \"quickly\"."},
        {"role": "assistant", "content": None, "tool_calls": [_call("callA1b2C3d4", "get_weather", {"city": "Tromsø \"Nord\"\n", "days": 2})]},
        _result("callA1b2C3d4", "get_weather", '{"temp_c": -3, "sky": "snø"}'),
        {"role": "assistant", "content": "It is −3 °C with snow in Tromsø."},
    ], True, False),
    "parallel-calls": ([
        {"role": "user", "content": "Weather in Oslo and Kyoto?"},
        {"role": "assistant", "content": None, "tool_calls": [_call("callOslo0001", "get_weather", {"city": "Oslo"}),
                                             _call("callKyoto002", "get_weather", {"city": "京都", "days": 1})]},
        _result("callOslo0001", "get_weather", '{"temp_c": 4}'),
        _result("callKyoto002", "get_weather", '{"temp_c": 18}'),
        {"role": "assistant", "content": "Oslo 4 °C, Kyoto 18 °C."},
    ], True, True),
    "non-string-arguments": ([
        {"role": "user", "content": "Convert 12.5 exactly with these rates."},
        {"role": "assistant", "content": None, "tool_calls": [_call("callConv0001", "convert",
                                                   {"amount": 12.5, "rates": {"EUR": 1.1}, "codes": ["EUR", "NOK"], "exact": True})]},
        _result("callConv0001", "convert", '{"EUR": 13.75}'),
        {"role": "assistant", "content": "13.75 EUR."},
    ], False, False),
    "no-call": ([
        {"role": "user", "content": "Hi! What can you do?"},
        {"role": "assistant", "content": "I can look up the weather and convert amounts."},
    ], False, False),
}


def expected_calls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
            for m in messages if m["role"] == "assistant" for c in m.get("tool_calls") or []]


def rendered_cases() -> list[tuple[Template, str, list[dict[str, Any]]]]:
    """Every (template, conversation) the template can express."""
    out = []
    for t in TEMPLATES:
        for name, (messages, needs_strings, needs_parallel) in CONVERSATIONS.items():
            if (needs_strings and not t.string_arguments) or (needs_parallel and not t.parallel):
                continue
            out.append((t, name, messages))
    return out
