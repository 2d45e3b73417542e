"""Conversations -> token ids with a loss mask over the assistant's turns.

The model's own chat template renders each conversation (or a template the user names:
a file, a tokenizer folder, or toolforge's packaged ``chatml_tools``). Two ways to find
the assistant's tokens, in this order:

1. the template marks them with ``{% generation %}`` (transformers'
   ``return_assistant_tokens_mask``);
2. the template is *prefix-stable*: rendering the turns before an assistant message with
   ``add_generation_prompt=True`` gives a prefix of the rendering that includes it, so the
   assistant's text is the difference; token offsets map that text to tokens.

A template that is neither (it rewrites earlier turns once later ones exist, e.g. drops old
reasoning) cannot be masked: training then runs on every token and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolforge.errors import InputError
from toolforge.record import Record

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
#: Templates toolforge ships, by name (``--chat-template chatml_tools``).
BUILTIN_TEMPLATES = {p.stem: p for p in TEMPLATES_DIR.glob("*.jinja")}


@dataclass
class Encoded:
    examples: list[dict[str, list[int]]]           # input_ids, assistant_masks
    masking: str                                  # generation_markers | prefix | none
    reason: str = ""                              # why masking is "none"
    truncated: int = 0
    dropped: dict[str, int] = field(default_factory=dict)   # records the template cannot express, per issue code

    def summary(self) -> dict[str, Any]:
        return {"examples": len(self.examples), "masking": self.masking, "reason": self.reason,
                "truncated": self.truncated, "dropped": self.dropped,
                "tokens": sum(len(e["input_ids"]) for e in self.examples),
                "trained_tokens": sum(sum(e["assistant_masks"]) for e in self.examples)}


def template_source(tokenizer: Any, chat_template: str | None) -> tuple[str, str]:
    """(template text, where it came from): the tokenizer's own, a packaged name, or a file/folder."""
    if chat_template is None:
        src = getattr(tokenizer, "chat_template", None)
        if not src:
            raise InputError("the model has no chat template",
                             hint="pass --chat-template FILE.jinja, a tokenizer folder, or chatml_tools")
        if isinstance(src, dict):
            src = src.get("tool_use") or src.get("default") or next(iter(src.values()))
        return str(src), "the model's own template"
    if chat_template in BUILTIN_TEMPLATES:
        return BUILTIN_TEMPLATES[chat_template].read_text("utf-8"), f"toolforge's {chat_template} template"
    from toolforge.chat_template import load_chat_template

    tpl = load_chat_template(chat_template)
    return tpl.select(with_tools=True), str(chat_template)


def has_generation_markers(source: str) -> bool:
    import re

    code = re.sub(r"\{#.*?#\}", "", source, flags=re.S)  # a comment that names the tag is not the tag
    return re.search(r"\{%-?\s*generation\s*-?%\}", code) is not None


def expressible(records: Sequence[Record], source: str, tokenizer: Any, *, think: str) -> tuple[list[Record], dict[str, int]]:
    """The records the template renders without losing a turn's text, calls or tools."""
    from toolforge.chat_template import ChatTemplate, renderable

    special = {k: v for k in ("bos_token", "eos_token", "pad_token", "unk_token")
               if isinstance(v := getattr(tokenizer, k, None), str)}
    return renderable(ChatTemplate(source=source, special_tokens=special, origin="training template"), records,
                      think=think)


def conversation(record: Record, *, think: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    from toolforge.export.convert import chat_messages

    return chat_messages(record, think=think), (record.tools_dump() or None)


def encode(tokenizer: Any, records: Sequence[Record], source: str, *, think: str, max_length: int) -> Encoded:
    """Token ids and assistant masks for ``records`` rendered with ``source``."""
    convs = [conversation(r, think=think) for r in records]
    if has_generation_markers(source):
        examples = [_encode_marked(tokenizer, m, t, source) for m, t in convs]
        masking, reason = "generation_markers", ""
    else:
        try:
            examples = [_encode_prefix(tokenizer, m, t, source) for m, t in convs]
            masking, reason = "prefix", ""
        except _NotPrefixStable as exc:
            reason = (f"the template is not prefix-stable and has no {{% generation %}} markers ({exc}): "
                      "training on every token")
            log.warning(reason)
            examples = [_encode_all(tokenizer, m, t, source) for m, t in convs]
            masking = "none"
    truncated = 0
    for e in examples:
        if len(e["input_ids"]) > max_length:
            truncated += 1
            e["input_ids"], e["assistant_masks"] = e["input_ids"][:max_length], e["assistant_masks"][:max_length]
    return Encoded([e for e in examples if any(e["assistant_masks"])], masking, reason, truncated)


def _render(tokenizer: Any, messages: list[dict[str, Any]], tools: Any, source: str, *, gen: bool) -> str:
    return str(tokenizer.apply_chat_template(messages, tools=tools, chat_template=source, tokenize=False,
                                             add_generation_prompt=gen))


def _encode_marked(tokenizer: Any, messages: list[dict[str, Any]], tools: Any, source: str) -> dict[str, list[int]]:
    out = tokenizer.apply_chat_template(messages, tools=tools, chat_template=source, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True)
    return {"input_ids": list(out["input_ids"]), "assistant_masks": [int(x) for x in out["assistant_masks"]]}


class _NotPrefixStable(Exception):
    pass


def _encode_prefix(tokenizer: Any, messages: list[dict[str, Any]], tools: Any, source: str) -> dict[str, list[int]]:
    full = _render(tokenizer, messages, tools, source, gen=False)
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:i], tools, source, gen=True) if i else ""
        through = _render(tokenizer, messages[: i + 1], tools, source, gen=False)
        if not through.startswith(before) or not full.startswith(through):
            raise _NotPrefixStable(f"turn {i} changes once later turns are added")
        spans.append((len(before), len(through)))
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    mask = [int(any(s <= start < e for s, e in spans)) for start, _end in enc["offset_mapping"]]
    return {"input_ids": list(enc["input_ids"]), "assistant_masks": mask}


def _encode_all(tokenizer: Any, messages: list[dict[str, Any]], tools: Any, source: str) -> dict[str, list[int]]:
    ids = tokenizer(_render(tokenizer, messages, tools, source, gen=False), add_special_tokens=False)["input_ids"]
    return {"input_ids": list(ids), "assistant_masks": [1] * len(ids)}
