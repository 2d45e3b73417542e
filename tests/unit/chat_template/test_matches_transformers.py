"""`toolforge render --chat-template` is byte for byte what transformers' `apply_chat_template` writes.

Every vendored real template (tests/fixtures/chat_templates, sources in SOURCES.md) renders
every test record, with and without the generation prompt and in both reasoning modes,
through a tokenizer folder saved by transformers itself (no network: the tokenizer is
built from a tiny in-memory vocabulary). Where transformers raises, toolforge reports the
record instead, with the template's own message.
"""

from __future__ import annotations

import jinja2
import pytest
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from toolforge.chat_template import load_chat_template, render_record
from toolforge.export.convert import chat_messages

from .records import TEMPLATES, all_records

TEMPLATE_FILES = sorted(TEMPLATES.glob("*.jinja"))


def _tokenizer_folder(tmp_path, source: str):
    vocab = {"[UNK]": 0, "<s>": 1, "</s>": 2, "<pad>": 3}
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel(vocab, unk_token="[UNK]")),
                                  bos_token="<s>", eos_token="</s>", unk_token="[UNK]", pad_token="<pad>")
    tok.chat_template = source
    folder = tmp_path / "tok"
    tok.save_pretrained(folder)
    return folder


def test_the_fixture_set_is_real_and_large_enough():
    assert len(TEMPLATE_FILES) >= 15
    sources = (TEMPLATES / "SOURCES.md").read_text(encoding="utf-8")
    for f in TEMPLATE_FILES:
        assert f"`{f.name}`" in sources, f"{f.name} has no recorded source"


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.stem)
def test_render_matches_apply_chat_template(tmp_path, path):
    folder = _tokenizer_folder(tmp_path, path.read_text(encoding="utf-8"))
    hf = AutoTokenizer.from_pretrained(folder)  # what a user's local tokenizer folder gives transformers
    ours = load_chat_template(folder)
    assert dict(ours.special_tokens) == hf.special_tokens_map
    compared = refused = 0
    for rec in all_records():
        for think in ("field", "tags"):
            messages, tools = chat_messages(rec, think=think), rec.tools_dump() or None
            for gen in (False, True):
                try:
                    expected = hf.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=gen)
                    raised = None
                except Exception as exc:  # the template fails on this record: toolforge must report it
                    expected, raised = None, exc
                got = render_record(ours, rec, think=think, add_generation_prompt=gen)
                if raised is None:
                    assert got.text == expected, f"{path.name} {rec.scenario} think={think} gen={gen}"
                    compared += 1
                else:
                    assert got.text is None and not got.ok
                    code = "template_raised" if type(raised) is jinja2.TemplateError else "template_error"
                    assert [i.code for i in got.issues] == [code]
                    assert str(raised) in got.issues[0].message
                    refused += 1
    assert compared > 0, f"{path.name} rendered nothing"
