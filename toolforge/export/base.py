"""What every export format module gets and provides.

A format is one module in ``toolforge/export/`` with ``write(ctx, split, records)
-> list[Path]`` (and optional ``REQUIRES``/``EXTRA`` for its optional
dependencies) plus one line in ``toolforge.export.FORMATS``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolforge.store import Store


@dataclass
class ExportContext:
    store: Store
    out_dir: Path
    think: str = "tags"
    tool_markup: str = "tag"
    #: records a format could not hold and left out, per reason code (reported in export.json)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, code: str) -> None:
        self.skipped[code] = self.skipped.get(code, 0) + 1


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """Write rows as UTF-8 JSON Lines atomically (temp file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path
