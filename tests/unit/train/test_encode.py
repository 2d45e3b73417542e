"""Loss masks over the assistant's turns: generation markers, prefix rendering, and the fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.train.tiny import tiny_model_dir
from toolforge.record import Record
from toolforge.train.encode import (
    BUILTIN_TEMPLATES,
    encode,
    expressible,
    has_generation_markers,
    template_source,
)

SAMPLE = Path(__file__).parents[3] / "examples" / "sample.jsonl"
CHATML_TOOLS = BUILTIN_TEMPLATES["chatml_tools"].read_text("utf-8")
# the same template without its markers: prefix-stable, so masks come from rendering prefixes
UNMARKED = CHATML_TOOLS.replace("{%- generation -%}", "").replace("{%- endgeneration -%}", "")
# a template that shows reasoning only on the last assistant turn: earlier turns change once later
# ones exist (what Qwen3-style templates do with old reasoning), so no prefix mask is possible
NOT_PREFIX_STABLE = ("{%- for m in messages -%}<|im_start|>{{ m.role }}\n{{ m.content }}"
                     "{%- if m.role == 'assistant' and loop.last %} [final]{% endif %}<|im_end|>\n{%- endfor -%}"
                     "{%- if add_generation_prompt -%}<|im_start|>assistant\n{%- endif -%}")


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return [Record.model_validate(json.loads(line)) for line in SAMPLE.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory, records):
    from transformers import AutoTokenizer

    texts = [json.dumps(r.model_dump(mode="json"), ensure_ascii=False) for r in records] + [CHATML_TOOLS]
    folder = tiny_model_dir(tmp_path_factory.mktemp("tiny"), texts * 2, chat_template=CHATML_TOOLS, vocab_size=600)
    return AutoTokenizer.from_pretrained(str(folder))


def _assistant_text(tokenizer, example) -> str:
    return tokenizer.decode([t for t, m in zip(example["input_ids"], example["assistant_masks"], strict=True) if m])


def test_the_packaged_template_is_found_and_has_generation_markers(tokenizer):
    src, origin = template_source(tokenizer, "chatml_tools")
    assert has_generation_markers(src) and "chatml_tools" in origin
    assert not has_generation_markers(UNMARKED)


def test_generation_markers_mask_exactly_the_assistant_turns(tokenizer, records):
    enc = encode(tokenizer, records, CHATML_TOOLS, think="tags", max_length=8192)
    assert enc.masking == "generation_markers" and len(enc.examples) == len(records)
    rec = next(r for r in records if r.scenario == "multi_tool_parallel")
    text = _assistant_text(tokenizer, enc.examples[records.index(rec)])
    for call in rec.calls:
        assert call.name in text
    assert rec.first_user_text not in text  # the user's words are not trained on
    for m in rec.messages:
        if m.role == "tool":
            assert (m.content or "")[:20] not in text  # nor the tool results


def test_a_prefix_stable_template_without_markers_gives_the_same_mask(tokenizer, records):
    marked = encode(tokenizer, records, CHATML_TOOLS, think="tags", max_length=8192)
    prefix = encode(tokenizer, records, UNMARKED, think="tags", max_length=8192)
    assert prefix.masking == "prefix"
    for a, b in zip(marked.examples, prefix.examples, strict=True):
        assert a["input_ids"] == b["input_ids"]
        # the same text is trained on, except that the prefix difference also holds the separator the
        # template writes after each turn ("\n" after <|im_end|>), which the markers leave outside
        assert _assistant_text(tokenizer, a) == _assistant_text(tokenizer, b).replace("<|im_end|>\n", "<|im_end|>")


def test_a_template_that_rewrites_earlier_turns_trains_on_every_token_and_says_so(tokenizer, records):
    enc = encode(tokenizer, records[:3], NOT_PREFIX_STABLE, think="drop", max_length=8192)
    assert enc.masking == "none" and "not prefix-stable" in enc.reason
    assert all(all(e["assistant_masks"]) for e in enc.examples)


def test_truncation_is_counted(tokenizer, records):
    enc = encode(tokenizer, records, CHATML_TOOLS, think="tags", max_length=64)
    assert enc.truncated > 0 and all(len(e["input_ids"]) <= 64 for e in enc.examples)


def test_a_template_that_drops_tool_calls_cannot_express_call_records(tokenizer, records):
    plain_chatml = ("{%- for m in messages -%}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{%- endfor -%}")
    kept, dropped = expressible(records, plain_chatml, tokenizer, think="tags")
    assert all(not r.calls for r in kept)            # only records without calls survive
    assert sum(dropped.values()) >= len([r for r in records if r.calls])
    kept, dropped = expressible(records, CHATML_TOOLS, tokenizer, think="tags")
    assert len(kept) == len(records) and not dropped
