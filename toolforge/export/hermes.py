"""``hermes``: JSON Lines of ``{id, scenario, text}``, the conversation rendered in the
Hermes (``<tool_call>`` ChatML) layout by the validation area's renderer."""

from __future__ import annotations

from pathlib import Path

from toolforge.export.base import ExportContext, write_jsonl
from toolforge.record import Record


def write(ctx: ExportContext, split: str, records: list[Record]) -> list[Path]:
    from toolforge.formats import get_renderer

    render = get_renderer("hermes")
    rows = ({"id": r.id, "scenario": r.scenario, "text": render(r)} for r in records)
    return [write_jsonl(ctx.out_dir / f"{split}.jsonl", rows)]
