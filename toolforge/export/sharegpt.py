"""``sharegpt``: JSON Lines of ``{conversations: [{from, value}], system, tools}`` (LLaMA-Factory style)."""

from __future__ import annotations

from pathlib import Path

from toolforge.export.base import ExportContext, write_jsonl
from toolforge.export.convert import sharegpt_conversation
from toolforge.record import Record


def write(ctx: ExportContext, split: str, records: list[Record]) -> list[Path]:
    rows = ({"id": r.id, "scenario": r.scenario, **sharegpt_conversation(r, think=ctx.think)} for r in records)
    return [write_jsonl(ctx.out_dir / f"{split}.jsonl", rows)]
