"""``lfm2-audio``: ``{audio, transcript, response, response_audio}`` lines with the audio
files copied next to them, written by the audio area's ``write_lfm2_audio``."""

from __future__ import annotations

from pathlib import Path

from toolforge.export.base import ExportContext
from toolforge.record import Record


def write(ctx: ExportContext, split: str, records: list[Record]) -> list[Path]:
    from toolforge.audio.lfm2 import write_lfm2_audio

    return list(write_lfm2_audio(ctx.store, records, ctx.out_dir, split, markup=ctx.tool_markup))
