"""``sharegpt``: JSON Lines of ``{id, scenario, conversations: [{from, value}], system, tools}``,
LLaMA-Factory's sharegpt-with-tools layout (roles alternate as its loader requires; see
:func:`toolforge.export.convert.sharegpt_conversation`). A record whose turns cannot
alternate is left out and counted under ``skipped`` in ``export.json``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from toolforge.export.base import ExportContext, write_jsonl
from toolforge.export.convert import Inexpressible, sharegpt_conversation
from toolforge.record import Record

log = logging.getLogger(__name__)


def rows(ctx: ExportContext, records: list[Record]) -> Iterator[dict[str, Any]]:
    for r in records:
        try:
            conv = sharegpt_conversation(r, think=ctx.think)
        except Inexpressible as exc:
            log.warning("sharegpt: left out record %s: %s (%s)", r.id, exc, exc.code)
            ctx.skip(exc.code)
            continue
        yield {"id": r.id, "scenario": r.scenario, **conv}


def write(ctx: ExportContext, split: str, records: list[Record]) -> list[Path]:
    return [write_jsonl(ctx.out_dir / f"{split}.jsonl", rows(ctx, records))]
