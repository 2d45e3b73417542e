"""``trl``: Parquet with ``messages`` and ``tools`` columns for TRL's SFTTrainer.

Each message and each tool is stored as a ``datasets`` ``Json`` value, so rows
keep exactly their own keys (no null-filled union of every tool's parameters);
``load_dataset("parquet", ...)`` gives back lists of plain dicts that
``tokenizer.apply_chat_template(messages, tools=tools)`` accepts. Tool-call
arguments are JSON objects, as Hugging Face chat templates expect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolforge.export.base import ExportContext
from toolforge.export.convert import chat_messages
from toolforge.record import Record

REQUIRES = ("datasets", "pyarrow")
EXTRA = "hub"
PLAIN = True  # reads only id, scenario, tools_dump()/messages_dump(): written from the stored JSON
#: ``datasets.Json`` (each message and tool keeps exactly its own keys) exists from datasets 4.7 on.
DATASETS_MIN = (4, 7)


def require_datasets_json(version: str | None = None) -> None:
    """A one-line error (not an ImportError traceback) when ``datasets`` is older than 4.7."""
    import importlib.metadata

    from toolforge.errors import MissingExtraError, UsageError

    if version is None:
        try:
            version = importlib.metadata.version("datasets")
        except importlib.metadata.PackageNotFoundError:
            raise MissingExtraError("the datasets package", extra="hub") from None
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    if tuple(parts) < DATASETS_MIN:
        raise UsageError(f"datasets {version} is too old: toolforge needs datasets>=4.7 (the Json feature)",
                         hint="pip install -U 'datasets>=4.7'")


def features() -> Any:
    require_datasets_json()
    from datasets import Features, Json, List, Value  # type: ignore[attr-defined]  # mypy sees the repo's datasets/ folder

    return Features({"id": Value("string"), "scenario": Value("string"),
                     "messages": List(Json()), "tools": List(Json())})


def rows(records: list[Record], *, think: str) -> list[dict[str, Any]]:
    return [{"id": r.id, "scenario": r.scenario, "messages": chat_messages(r, think=think),
             "tools": r.tools_dump()} for r in records]


def write(ctx: ExportContext, split: str, records: list[Record]) -> list[Path]:
    # Dataset.from_list's table, built as Arrow columns (same Parquet bytes, less Python per value)
    from toolforge.export.base import json_dataset, write_parquet

    path = ctx.out_dir / f"{split}.parquet"
    tmp = path.with_name(path.name + ".tmp")
    write_parquet(json_dataset(rows(records, think=ctx.think), features()), str(tmp))
    tmp.replace(path)
    return [path]
