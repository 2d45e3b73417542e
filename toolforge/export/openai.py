"""``openai``: JSON Lines of ``{messages, tools}`` as the OpenAI fine-tuning API wants them.

Arguments are JSON strings, assistant tool-call turns have ``content: null``;
``parallel_tool_calls`` is set when a turn makes more than one call.
"""

from __future__ import annotations

from pathlib import Path

from toolforge.export.base import ExportContext, write_jsonl
from toolforge.export.convert import openai_messages
from toolforge.record import Record

PLAIN = True  # reads only tools_dump()/messages_dump(): written from the stored JSON (export.base.PlainRecord)


def row(record: Record, *, think: str = "tags") -> dict:
    out: dict = {"messages": openai_messages(record, think=think), "tools": record.tools_dump()}
    if any(len(m.get("tool_calls") or []) > 1 for m in record.messages_dump()):
        out["parallel_tool_calls"] = True
    return out


def write(ctx: ExportContext, split: str, records: list[Record]) -> list[Path]:
    return [write_jsonl(ctx.out_dir / f"{split}.jsonl", (row(r, think=ctx.think) for r in records))]
