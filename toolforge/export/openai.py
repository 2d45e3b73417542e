"""``openai``: JSON Lines of ``{messages, tools}`` as the OpenAI fine-tuning API wants them.

Arguments are JSON strings, assistant tool-call turns have ``content: null``;
``parallel_tool_calls`` is set when a turn makes more than one call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from toolforge.export.base import ExportContext, write_lines
from toolforge.export.convert import openai_messages
from toolforge.record import Record

PLAIN = True  # reads only tools_dump()/messages_dump(): written from the stored JSON (export.base.PlainRecord)


def row(record: Record, *, think: str = "tags") -> dict:
    out: dict = {"messages": openai_messages(record, think=think), "tools": record.tools_dump()}
    if any(len(m.get("tool_calls") or []) > 1 for m in record.messages_dump()):
        out["parallel_tool_calls"] = True
    return out


def lines(records: Iterable[Record], *, think: str = "tags") -> Iterator[str]:
    """``json.dumps(row(r)) + "\\n"`` for each record, with each shared tool list encoded once."""
    dumps = json.dumps
    tools_json: dict[int, tuple[Any, str]] = {}
    for r in records:
        tools = r.tools_dump()
        hit = tools_json.get(id(tools))
        if hit is None or hit[0] is not tools:
            if len(tools_json) > 4096:
                tools_json.clear()
            hit = tools_json[id(tools)] = (tools, dumps(tools, ensure_ascii=False))
        parallel = any(len(m.get("tool_calls") or []) > 1 for m in r.messages_dump())
        yield ('{"messages": ' + dumps(openai_messages(r, think=think), ensure_ascii=False) + ', "tools": ' + hit[1]
               + (', "parallel_tool_calls": true}\n' if parallel else "}\n"))


def write(ctx: ExportContext, split: str, records: list[Record]) -> list[Path]:
    return [write_lines(ctx.out_dir / f"{split}.jsonl", lines(records, think=ctx.think))]
