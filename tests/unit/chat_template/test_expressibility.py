"""Records a template cannot express are reported per record with a code, never written wrong."""

from __future__ import annotations

import json

import pytest

from toolforge.chat_template import ChatTemplate, load_chat_template, render_record, renderable
from toolforge.errors import InputError, UsageError
from toolforge.record import Record

from .records import EXTRA, TEMPLATES, sample_records


def _tpl(name: str) -> ChatTemplate:
    return load_chat_template(TEMPLATES / name, special_tokens={"bos_token": "<s>", "eos_token": "</s>"})


def _by(scenario: str) -> Record:
    return next(r for r in sample_records() if r.scenario == scenario)


def _codes(result) -> set[str]:
    return {i.code for i in result.issues}


def test_llama31_refuses_parallel_calls_and_renders_single_ones():
    tpl = _tpl("meta-llama-Llama-3.1-8B-Instruct.jinja")
    par = render_record(tpl, _by("multi_tool_parallel"))
    assert not par.ok and par.text is None and _codes(par) == {"template_raised"}
    assert "single tool-calls" in par.issues[0].message
    single = render_record(tpl, _by("single_tool"))
    assert single.ok and "get_weather" in single.text


def test_a_template_that_writes_text_and_leaves_out_the_calls_is_caught():
    # vLLM's Phi-4-mini example writes a turn's content and, when there is some, never its calls
    rec = Record.model_validate(EXTRA[0])
    res = render_record(_tpl("vllm-tool_chat_template_phi4_mini.jinja"), rec, think="drop")
    assert res.text is not None and not res.ok
    dropped = [i for i in res.issues if i.code == "call_dropped"]
    assert [i.path for i in dropped] == ["messages[2].tool_calls[0]"]
    assert "book_table" in dropped[0].message and "Maaemo" in dropped[0].message


def test_templates_without_tools_or_system_are_caught():
    phi35 = render_record(_tpl("microsoft-Phi-3.5-mini-instruct.jinja"), _by("single_tool"))
    assert {"tools_dropped", "call_dropped"} <= _codes(phi35)
    nemo = render_record(_tpl("mistralai-Mistral-Nemo-Instruct-2407.jinja"), _by("no_tool_needed"))
    assert [(i.code, i.path) for i in nemo.issues] == [("content_dropped", "messages[0].content")]


def test_the_check_sees_a_call_whose_words_also_appear_elsewhere():
    # LFM2's template writes no tool_calls at all (they belong in content); the tool's name and
    # argument names still appear in the tool list, so only the marked probe can tell.
    res = render_record(_tpl("LFM2-8B-A1B.jinja"), _by("single_tool"))
    assert "call_dropped" in _codes(res)
    assert render_record(_tpl("Qwen-Qwen2.5-7B-Instruct.jinja"), _by("single_tool")).issues == []


def test_reasoning_a_template_ignores_is_a_warning():
    rec = _by("reasoning_heavy")
    q25 = render_record(_tpl("Qwen-Qwen2.5-7B-Instruct.jinja"), rec, think="field")
    assert q25.ok and _codes(q25) == {"reasoning_dropped"}
    assert render_record(_tpl("Qwen-Qwen2.5-7B-Instruct.jinja"), rec, think="tags").issues == []
    assert render_record(_tpl("Qwen-Qwen3-0.6B.jinja"), rec, think="field").issues == []


def test_renderable_keeps_only_what_the_template_can_render():
    recs = sample_records()
    kept, dropped = renderable(_tpl("meta-llama-Llama-3.1-8B-Instruct.jinja"), recs)
    assert len(kept) == len(recs) - 1 and dropped == {"template_raised": 1}
    assert all(len(m.tool_calls or []) <= 1 for r in kept for m in r.messages)


def test_template_errors_other_than_raise_exception_are_reported():
    tpl = ChatTemplate("{{ messages[0].content.upper() }}{{ messages[0].nope.deeper }}")
    res = render_record(tpl, _by("single_tool"))
    assert _codes(res) == {"template_error"} and res.text is None
    escape = ChatTemplate("{{ messages.__class__.__mro__ }}")
    assert _codes(render_record(escape, _by("single_tool"))) == {"template_error"}  # sandboxed


def test_loading(tmp_path):
    (tmp_path / "bad.jinja").write_text("{% if %}")
    with pytest.raises(InputError, match="not valid Jinja"):
        load_chat_template(tmp_path / "bad.jinja")
    with pytest.raises(InputError, match="does not exist"):
        load_chat_template(tmp_path / "missing.jinja")
    folder = tmp_path / "tok"
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": {"content": "<B>", "lstrip": False}, "eos_token": "<E>",
        "chat_template": [{"name": "default", "template": "D{{ bos_token }}"},
                          {"name": "tool_use", "template": "T{{ eos_token }}"}]}))
    tpl = load_chat_template(folder)
    assert dict(tpl.special_tokens) == {"bos_token": "<B>", "eos_token": "<E>"}
    assert tpl.select(with_tools=True) == "T{{ eos_token }}" and tpl.select() == "D{{ bos_token }}"
    with pytest.raises(UsageError, match="no chat template named"):
        tpl.select(name="other")
    (folder / "chat_template.jinja").write_text("J{{ messages|length }}")  # what newer transformers saves
    assert load_chat_template(folder).select() == "J{{ messages|length }}"
