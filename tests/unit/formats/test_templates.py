"""Renderers agree with chat templates for the same conversation.

The templates below are written here, in Jinja, from each family's documented
format (the way the public chat templates lay out turns, tools, calls and
results); they are not copies of any model's template file. They are rendered
the way transformers renders chat templates: a sandboxed Jinja environment
with trim_blocks/lstrip_blocks and a ``tojson`` filter that keeps unicode.
"""

from __future__ import annotations

import json

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from toolforge.formats import get_renderer
from toolforge.record import Record


def _env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])

    def tojson(x, indent=None):
        return json.dumps(x, ensure_ascii=False, indent=indent)

    def raise_exception(msg):
        raise ValueError(msg)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


# ChatML with tools in the system turn, <tool_call> JSON after the assistant text,
# tool results grouped into one user turn (Hermes / Qwen2.5 layout).
HERMES = r"""
{%- set default_system = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' %}
{%- if messages[0].role == 'system' %}{% set sys = messages[0].content %}{% set msgs = messages[1:] %}
{%- else %}{% set sys = default_system %}{% set msgs = messages %}{% endif %}
{{- '<|im_start|>system\n' + sys }}
{%- if tools %}
{{- '\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>' }}
{%- for tool in tools %}{{ '\n' + (tool | tojson) }}{% endfor %}
{{- '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>' }}
{%- endif %}
{{- '<|im_end|>\n' }}
{%- for m in msgs %}
{%- if m.role == 'user' or (m.role == 'assistant' and not m.tool_calls) %}
{{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' }}
{%- elif m.role == 'assistant' %}
{{- '<|im_start|>assistant' }}{% if m.content %}{{ '\n' + m.content }}{% endif %}
{%- for tc in m.tool_calls %}
{{- '\n<tool_call>\n{"name": "' + tc.function.name + '", "arguments": ' + (tc.function.arguments | tojson) + '}\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\n' }}
{%- elif m.role == 'tool' %}
{%- if loop.first or msgs[loop.index0 - 1].role != 'tool' %}{{ '<|im_start|>user' }}{% endif %}
{{- '\n<tool_response>\n' + m.content + '\n</tool_response>' }}
{%- if loop.last or msgs[loop.index0 + 1].role != 'tool' %}{{ '<|im_end|>\n' }}{% endif %}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}
"""

# Llama 3.1 with tools in the first user message (the default), one JSON call with
# "parameters" per assistant turn, results in ipython turns written with tojson.
LLAMA31 = r"""
{{- '<|begin_of_text|>' }}
{%- if messages[0].role == 'system' %}{% set sys = messages[0].content | trim %}{% set msgs = messages[1:] %}
{%- else %}{% set sys = '' %}{% set msgs = messages %}{% endif %}
{{- '<|start_header_id|>system<|end_header_id|>\n\n' }}
{%- if tools %}{{ 'Environment: ipython\n' }}{% endif %}
{{- 'Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n' + sys + '<|eot_id|>' }}
{%- if tools %}
{%- set first = msgs[0].content | trim %}{% set msgs = msgs[1:] %}
{{- '<|start_header_id|>user<|end_header_id|>\n\n' }}
{{- 'Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\n\n' }}
{{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.Do not use variables.\n\n' }}
{%- for t in tools %}{{ (t | tojson(indent=4)) + '\n\n' }}{% endfor %}
{{- first + '<|eot_id|>' }}
{%- endif %}
{%- for m in msgs %}
{%- if m.role == 'tool' %}
{{- '<|start_header_id|>ipython<|end_header_id|>\n\n' + (m.content | tojson) + '<|eot_id|>' }}
{%- elif m.tool_calls %}
{%- if m.tool_calls | length != 1 %}{{ raise_exception('one call per turn') }}{% endif %}
{%- set tc = m.tool_calls[0].function %}
{{- '<|start_header_id|>assistant<|end_header_id|>\n\n{"name": "' + tc.name + '", "parameters": ' + (tc.arguments | tojson) + '}<|eot_id|>' }}
{%- else %}
{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\n\n' + (m.content | trim) + '<|eot_id|>' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}
"""

# LFM2: ChatML after <|startoftext|>; tools as a JSON list in the system turn; calls as a
# Python list between tool-call tokens; results between tool-response tokens in tool turns.
LFM2 = r"""
{{- '<|startoftext|>' }}
{%- if messages[0].role == 'system' %}{% set sys = messages[0].content %}{% set msgs = messages[1:] %}
{%- else %}{% set sys = '' %}{% set msgs = messages %}{% endif %}
{%- if tools %}{% set sys = sys + ('\n' if sys else '') + 'List of tools: <|tool_list_start|>['
    + (tools | map('tojson') | join(', ')) + ']<|tool_list_end|>' %}{% endif %}
{%- if sys %}{{ '<|im_start|>system\n' + sys + '<|im_end|>\n' }}{% endif %}
{%- for m in msgs %}
{{- '<|im_start|>' + m.role + '\n' }}
{%- if m.role == 'tool' %}{{ '<|tool_response_start|>' + m.content + '<|tool_response_end|>' }}
{%- else %}
{%- if m.tool_calls %}{{ '<|tool_call_start|>[' }}
{%- for tc in m.tool_calls %}{{ tc.function.name + '(' }}
{%- for k, v in tc.function.arguments.items() %}{{ k + '=' + (v | pyrepr) }}{{ ', ' if not loop.last }}{% endfor %}
{{- ')' + (', ' if not loop.last else '') }}{% endfor %}{{ ']<|tool_call_end|>' }}{% endif %}
{{- m.content or '' }}
{%- endif %}
{{- '<|im_end|>\n' }}
{%- endfor %}
{%- if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}
"""

# Mistral v3 tokenizer layout (Mistral-7B-Instruct-v0.3): tools before the last user turn, the
# system prompt only on a final user turn, calls as a JSON list with 9-character ids, results raw.
MISTRAL = r"""
{%- if messages[0].role == 'system' %}{% set system_message = messages[0].content %}{% set loop_messages = messages[1:] %}
{%- else %}{% set loop_messages = messages %}{% endif %}
{%- set user_messages = loop_messages | selectattr('role', 'equalto', 'user') | list %}
{{- '<s>' }}
{%- for message in loop_messages %}
{%- if message.role == 'user' %}
{%- if tools and message == user_messages[-1] %}
{{- '[AVAILABLE_TOOLS] [' }}
{%- for tool in tools %}{% set fn = tool.function %}{{ '{"type": "function", "function": {' }}
{%- for key, val in fn.items() if key != 'return' %}
{%- if val is string %}{{ '"' + key + '": "' + val + '"' }}{% else %}{{ '"' + key + '": ' + (val | tojson) }}{% endif %}
{%- if not loop.last %}{{ ', ' }}{% endif %}
{%- endfor %}{{ '}}' }}{% if not loop.last %}{{ ', ' }}{% else %}{{ ']' }}{% endif %}
{%- endfor %}{{ '[/AVAILABLE_TOOLS]' }}
{%- endif %}
{%- if loop.last and system_message is defined %}{{ '[INST] ' + system_message + '

' + message.content + '[/INST]' }}
{%- else %}{{ '[INST] ' + message.content + '[/INST]' }}{% endif %}
{%- elif message.tool_calls %}
{{- '[TOOL_CALLS] [' }}
{%- for tc in message.tool_calls %}
{%- if tc.id | length != 9 %}{{ raise_exception('ids are 9 characters') }}{% endif %}
{{- (tc.function | tojson)[:-1] + ', "id": "' + tc.id + '"}' }}{% if not loop.last %}{{ ', ' }}{% else %}{{ ']</s>' }}{% endif %}
{%- endfor %}
{%- elif message.role == 'assistant' %}{{ ' ' + (message.content | trim) + '</s>' }}
{%- elif message.role == 'tool' %}
{{- '[TOOL_RESULTS] {"content": ' + (message.content | string) + ', "call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
{%- endif %}
{%- endfor %}
"""

# Phi-4-mini: <|role|>content<|end|> turns; a system message may carry the tools (a JSON string)
# between <|tool|> and <|/tool|>; the model writes its calls as functools[...] in its content.
PHI4 = r"""
{%- for message in messages %}
{%- if message.role == 'system' and message.tools is defined and message.tools is not none %}
{{- '<|' + message.role + '|>' + message.content + '<|tool|>' + message.tools + '<|/tool|>' + '<|end|>' }}
{%- else %}
{{- '<|' + message.role + '|>' + message.content + '<|end|>' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ '<|endoftext|>' }}{% endif %}
"""


def _phi4_messages(d):
    """The conversation as a Phi-4-mini user would pass it: tools on the system message, calls in content."""
    msgs = [dict(m) for m in d["messages"]]
    if d["tools"]:
        if not msgs or msgs[0]["role"] != "system":
            msgs.insert(0, {"role": "system", "content": ""})
        msgs[0]["tools"] = json.dumps([t["function"] for t in d["tools"]], ensure_ascii=False)
    for m in msgs:
        m.setdefault("content", "")
        if m.get("tool_calls"):
            calls = [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in m["tool_calls"]]
            m["content"] = (m["content"] + " " if m["content"] else "") + "functools" + json.dumps(calls, ensure_ascii=False)
    return msgs

# xLAM in ChatML (the layout of vLLM's xLAM-Qwen tool template): the system prompt (or xLAM's default
# with its format instruction), tools as indented JSON, call turns as a bare JSON list of calls.
XLAM = r"""
{{- '<|im_start|>system
' }}
{%- if messages[0].role == 'system' %}{{ (messages[0].content | trim) + '
' }}{% set msgs = messages[1:] %}
{%- else %}{% set msgs = messages %}{{ xlam_default + '
' }}{% if tools %}{{ xlam_instruction + '

' }}{% endif %}{% endif %}
{%- for t in tools or [] %}{{ (t | tojson(indent=4)) + '

' }}{% endfor %}
{{- '<|im_end|>
' }}
{%- for m in msgs %}
{%- if m.role == 'tool' %}{{ '<|im_start|>tool
' + m.content + '<|im_end|>
' }}
{%- elif m.tool_calls %}{{ '<|im_start|>assistant
' + (m.tool_calls | map(attribute='function') | list | tojson) + '<|im_end|>
' }}
{%- else %}{{ '<|im_start|>' + m.role + '
' + (m.content | trim) + '<|im_end|>
' }}{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{ '<|im_start|>assistant
' }}{% endif %}
"""

# Llama 3.2 pythonic (the layout of vLLM's example): tools and instruction in the system turn, a call
# turn is the Python list of calls, results as {"output": ...} in ipython turns.
PYTHONIC = r"""
{{- '<|begin_of_text|><|start_header_id|>system<|end_header_id|>

' }}
{%- if tools %}{{ 'Environment: ipython
' }}{% endif %}
{{- 'Cutting Knowledge Date: December 2023
Today Date: 26 Jul 2024

' }}
{%- if tools %}{{ py_instruction }}{% for t in tools %}{{ (t | tojson(indent=4)) + '

' }}{% endfor %}{% endif %}
{%- if messages[0].role == 'system' %}{{ messages[0].content | trim }}{% set msgs = messages[1:] %}
{%- else %}{{ py_default }}{% set msgs = messages %}{% endif %}
{{- '<|eot_id|>' }}
{%- for m in msgs %}
{%- if m.tool_calls %}{{ '<|start_header_id|>assistant<|end_header_id|>

[' }}
{%- for tc in m.tool_calls %}{{ tc.function.name + '(' }}
{%- for k, v in tc.function.arguments.items() %}{{ k + '=' + (v | pyrepr) }}{{ ', ' if not loop.last }}{% endfor %}
{{- ')' + (', ' if not loop.last else '') }}{% endfor %}{{ ']<|eot_id|>' }}
{%- elif m.role == 'tool' %}{{ '<|start_header_id|>ipython<|end_header_id|>

' + ({'output': m.content} | tojson) + '<|eot_id|>' }}
{%- else %}{{ '<|start_header_id|>' + m.role + '<|end_header_id|>

' + (m.content | trim) + '<|eot_id|>' }}{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %}
"""

# DeepSeek-V3 tool tokens (the layout of vLLM's DeepSeek-V3 tool example, clean whitespace).
DEEPSEEK = r"""
{%- set ns = namespace(in_out=false, open=false, last_user=false) %}
{{- bos + (messages | selectattr('role', 'equalto', 'system') | map(attribute='content') | join('

')) }}
{%- if tools %}{{ ds_tools_header }}{% for t in tools %}{{ '
' + (t | tojson) }}{% endfor %}{{ ds_tools_footer }}{% endif %}
{%- for m in messages %}
{%- if m.role == 'user' %}{% set ns.in_out = false %}{% set ns.last_user = true %}{{ '<｜User｜>' + m.content + '<｜Assistant｜>' }}
{%- elif m.role == 'assistant' and m.tool_calls %}{% set ns.last_user = false %}
{%- if ns.in_out %}{{ '<｜tool▁outputs▁end｜>' }}{% endif %}{% set ns.in_out = false %}{% set ns.open = true %}
{{- m.content + '<｜tool▁calls▁begin｜>' }}
{%- for tc in m.tool_calls %}{{ '<｜tool▁call▁begin｜>function<｜tool▁sep｜>' + tc.function.name + '
```json
' + (tc.function.arguments | tojson) + '
```<｜tool▁call▁end｜>' }}{{ '
' if not loop.last }}{% endfor %}
{{- '<｜tool▁calls▁end｜><｜end▁of▁sentence｜>' }}
{%- elif m.role == 'assistant' %}{% set ns.last_user = false %}{{ ('<｜tool▁outputs▁end｜>' if ns.in_out else '') + m.content + '<｜end▁of▁sentence｜>' }}{% set ns.in_out = false %}
{%- elif m.role == 'tool' %}{% set ns.last_user = false %}
{{- ('<｜tool▁outputs▁begin｜>' if (ns.open and not ns.in_out) else '
') + '<｜tool▁output▁begin｜>' + m.content + '<｜tool▁output▁end｜>' }}
{%- set ns.in_out = true %}{% set ns.open = false %}
{%- endif %}
{%- endfor %}
{%- if ns.in_out %}{{ '<｜tool▁outputs▁end｜>' }}{% endif %}
{%- if add_generation_prompt and not ns.last_user and not ns.in_out %}{{ '<｜Assistant｜>' }}{% endif %}
"""


def _mistral_ids(d):
    from toolforge.formats.mistral import mistral_call_id

    ids, n = {}, 0
    for m in d["messages"]:
        for tc in m.get("tool_calls") or []:
            new = mistral_call_id(tc["id"], n)
            n += 1
            ids[tc["id"]] = new
            tc["id"] = new
        if m.get("tool_call_id"):
            m["tool_call_id"] = ids[m["tool_call_id"]]
    return d


def _pyrepr(v):
    if v is True:
        return "True"
    if v is False:
        return "False"
    if v is None:
        return "None"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_pyrepr(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_pyrepr(x)}" for k, x in v.items()) + "}"
    return json.dumps(v)


TEMPLATES = {"hermes": HERMES, "llama3_json": LLAMA31, "lfm2": LFM2, "mistral": MISTRAL, "phi4_mini": PHI4,
             "xlam": XLAM, "pythonic": PYTHONIC, "deepseek_v3": DEEPSEEK}


def _globals() -> dict:
    from toolforge.formats import deepseek_v3, pythonic, xlam

    block = deepseek_v3._tools_block([])
    head, _, foot = block.rpartition("<tools>")
    return {"xlam_default": xlam.DEFAULT_SYSTEM, "xlam_instruction": xlam.FORMAT_INSTRUCTION,
            "py_instruction": pythonic.INSTRUCTION, "py_default": pythonic.DEFAULT_SYSTEM,
            "bos": deepseek_v3.BOS, "ds_tools_header": head + "<tools>", "ds_tools_footer": foot}


def _template_render(family, rec: Record, add_generation_prompt: bool) -> str:
    env = _env()
    env.filters["pyrepr"] = _pyrepr
    d = rec.to_dict()
    if family == "mistral":
        d = _mistral_ids(d)
    if family == "phi4_mini":
        d["messages"] = _phi4_messages(d)
    return env.from_string(TEMPLATES[family]).render(messages=d["messages"], tools=d["tools"] or None,
                                                     add_generation_prompt=add_generation_prompt, **_globals())


@pytest.mark.parametrize("family", sorted(TEMPLATES))
@pytest.mark.parametrize("gen", [False, True])
def test_renderer_matches_template(family, gen, sample_records):
    if family == "mistral" and gen:
        return  # the v3 layout has no generation prompt: the text ends after [/INST]
    checked = 0
    for rec in sample_records:
        if family == "llama3_json" and any(len(m.tool_calls or []) > 1 for m in rec.messages):
            continue  # the Llama 3.1 template allows one call per turn
        if any(m.reasoning for m in rec.messages) and family == "hermes":
            continue  # reasoning is written Qwen3-style, beyond the Qwen2.5 layout
        expected = _template_render(family, rec, gen)
        assert get_renderer(family)(rec, add_generation_prompt=gen) == expected, rec.scenario
        checked += 1
    assert checked >= 6


def test_renderer_matches_template_without_tools_or_system():
    rec = Record.model_validate({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})
    for family in TEMPLATES:
        assert get_renderer(family)(rec) == _template_render(family, rec, False), family


def test_renderer_matches_template_for_a_prompt_ending_with_the_user(sample_records):
    rec = sample_records[0]
    msgs = [m.model_dump(exclude_none=True) for m in rec.messages[:2]]  # system + user
    prompt = Record.model_validate({"tools": rec.tools_dump(), "messages": msgs})
    for family in TEMPLATES:
        gen = family != "mistral"
        assert get_renderer(family)(prompt, add_generation_prompt=gen) == _template_render(family, prompt, gen), family
    assert "You are a helpful assistant" in get_renderer("mistral")(prompt)
