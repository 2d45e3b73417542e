"""Stage a dataset folder for the Hub: Parquet shards per split and a README card.

Layout (what ``datasets.load_dataset(DIR)`` and the Hub viewer read)::

    .toolforge-stage.json                  the manifest: the files toolforge wrote (never uploaded)
    README.md                              the dataset card (YAML metadata + body)
    data/train-00000-of-00001.parquet      one or more shards per split
    data/test-00000-of-00001.parquet

Columns: ``id``, ``scenario``, ``messages`` and ``tools`` (lists of ``Json``
values: each message and tool keeps exactly its own keys), ``meta`` (``Json``)
and, when the store has audio, ``audio`` (a list of ``Audio`` with the WAV
bytes embedded), ``audio_turns`` (message index of each clip) and
``audio_roles``. Audio is embedded from the files without decoding, so torch
and torchcodec stay optional: read it back with ``Audio(decode=False)``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolforge.errors import InputError
from toolforge.export.base import gc_paused
from toolforge.export.convert import chat_messages
from toolforge.record import Record

if TYPE_CHECKING:
    from toolforge.store import Store

log = logging.getLogger(__name__)

STAGE_MANIFEST = ".toolforge-stage.json"  # what a staging wrote: the only files a push uploads
SHARD_BYTES = 256 * 1024 * 1024  # start a new shard past this size (UTF-8 bytes of the encoded messages + audio)


@dataclass
class StagedDataset:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    has_audio: bool = False


def audio_by_record(store: Store, record_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Audio rows per record from the audio area (``{}`` when it is not installed or has none)."""
    try:
        mod = importlib.import_module("toolforge.audio.store")
    except ModuleNotFoundError as exc:
        if exc.name not in ("toolforge.audio.store", "toolforge.audio"):
            raise
        return {}
    if not store.has_table("audio"):
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for row in mod.audio_rows(store, list(record_ids)):
        out.setdefault(row["record_id"], []).append(row)
    for rows in out.values():
        rows.sort(key=lambda r: r["turn"])
    return out


def _features(with_audio: bool) -> Any:
    from datasets import Features, Json, List, Value  # type: ignore[attr-defined]  # mypy sees the repo's datasets/ folder

    cols: dict[str, Any] = {"id": Value("string"), "scenario": Value("string"),
                            "messages": List(Json()), "tools": List(Json()), "meta": Json()}
    if with_audio:
        cols["audio"] = List({"bytes": Value("binary"), "path": Value("string")})
        cols["audio_turns"] = List(Value("int32"))
        cols["audio_roles"] = List(Value("string"))
    return Features(cols)


def _row(rec: Record, audio: list[dict[str, Any]] | None, with_audio: bool, think: str) -> dict[str, Any]:
    row: dict[str, Any] = {"id": rec.id, "scenario": rec.scenario, "messages": chat_messages(rec, think=think),
                           "tools": rec.tools_dump(), "meta": rec.meta}
    if with_audio:
        clips = []
        for a in audio or []:
            src = Path(a["abs_path"])
            if not src.is_file():
                raise InputError(f"audio file missing: {src} (record {rec.id}, turn {a['turn']})",
                                 hint="re-run `toolforge tts` for these records")
            clips.append({"bytes": src.read_bytes(), "path": Path(a["path"]).name})
        row["audio"] = clips
        row["audio_turns"] = [int(a["turn"]) for a in audio or []]
        row["audio_roles"] = [str(a["role"]) for a in audio or []]
    return row


def _row_bytes(ds: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Each row's size for sharding: the UTF-8 bytes of its encoded ``messages`` (read from the
    Arrow column ``ds`` already holds, no second serialisation) plus its embedded audio bytes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    col = ds.data.table.column("messages").combine_chunks()
    values = col.values
    if isinstance(values, pa.ExtensionArray):
        values = values.storage
    lengths = pc.fill_null(pc.binary_length(values.cast(pa.string()) if not pa.types.is_string(values.type)
                                            else values), 0).to_numpy(zero_copy_only=False)
    ends = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
    offsets = col.offsets.to_numpy(zero_copy_only=False)
    per_row = ends[offsets[1:]] - ends[offsets[:-1]]
    if any(row.get("audio") for row in rows):
        per_row = per_row + np.array([sum(len(c["bytes"]) for c in row.get("audio") or []) for row in rows],
                                     dtype=np.int64)
    return [int(x) for x in per_row]


def shard_bounds(sizes: list[int], limit: int) -> list[tuple[int, int]]:
    """``[start, end)`` row ranges: a new shard starts when the next row would take the current
    (non-empty) one past ``limit`` bytes."""
    bounds: list[tuple[int, int]] = []
    start, size = 0, 0
    for i, est in enumerate(sizes):
        if i > start and size + est > limit:
            bounds.append((start, i))
            start, size = i, 0
        size += est
    if sizes:
        bounds.append((start, len(sizes)))
    return bounds


def _write_shards(rows: list[dict[str, Any]], split: str, data_dir: Path, with_audio: bool) -> list[Path]:
    from datasets import Audio, List  # type: ignore[attr-defined]  # mypy sees the repo's datasets/ folder
    from toolforge.export.base import json_dataset, write_parquet

    # the Arrow table of the whole group is built once: its encoded messages give the shard sizes
    # (a json.dumps per row only to estimate them was a fifth of the staging time), and a group that
    # fits one shard (nearly all) is written from it directly
    whole = json_dataset(rows, _features(with_audio))  # Dataset.from_list's table, built as Arrow columns
    bounds = shard_bounds(_row_bytes(whole, rows), SHARD_BYTES)
    paths = []
    for i, (start, end) in enumerate(bounds):
        ds = whole if len(bounds) == 1 else json_dataset(rows[start:end], _features(with_audio))
        if with_audio:  # bytes are already embedded: a cast, no audio encoding (no torchcodec needed)
            ds = ds.cast_column("audio", List(Audio()))
        path = data_dir / f"{split}-{i:05d}-of-{len(bounds):05d}.parquet"
        write_parquet(ds, str(path))  # ds.to_parquet, row-group size given up front
        paths.append(path)
    return paths


def group_by_scenario(records: list[Record]) -> dict[str, list[Record]]:
    """Records per scenario name (``none`` for records without one), in their order."""
    out: dict[str, list[Record]] = {}
    for r in records:
        out.setdefault(r.scenario or "none", []).append(r)
    return out


@gc_paused()  # holds every staged record while writing: see toolforge.export.base.gc_paused
def stage_dataset(store: Store, splits: dict[str, list[Record]], stage_dir: Path, *, card_text: str | None = None,
                  think: str = "field", force: bool = False) -> StagedDataset:
    """Write ``splits`` as Parquet shards under ``stage_dir/data`` plus the card, and list them in
    the folder's manifest (:data:`STAGE_MANIFEST`): publishing uploads exactly those files.

    A folder holding files toolforge did not write is refused unless ``force`` (then they are
    kept, never uploaded, and replaced only where a staged file takes their path). Files of an
    earlier staging that this one does not write again are removed; nothing else is.
    """
    from toolforge.export.manifest import OutputDir

    target = OutputDir(stage_dir, STAGE_MANIFEST, what="--stage-dir")
    target.refuse_foreign(force=force, hint="choose an empty or new folder, or pass --force to stage there anyway "
                                            "(only the staged files are published)")
    ids = [r.id for recs in splits.values() for r in recs if r.id]
    audio = audio_by_record(store, ids)
    with_audio = bool(audio)
    staged = StagedDataset(path=stage_dir, has_audio=with_audio)
    written: list[Path] = []
    with target.staging() as tmp:
        data_dir = tmp / "data"
        data_dir.mkdir()
        for split, recs in splits.items():
            if not recs:
                continue
            # one shard set per scenario (data/<split>-<scenario>-NNNNN-of-NNNNN.parquet): the card's
            # per-scenario configs point at them, its default config at data/<split>-*
            for scenario, group in sorted(group_by_scenario(recs).items()):
                rows = [_row(r, audio.get(r.id or ""), with_audio, think) for r in group]
                written.extend(_write_shards(rows, f"{split}-{scenario}", data_dir, with_audio))
            staged.rows[split] = len(recs)
        if card_text is not None:
            (tmp / "README.md").write_text(card_text, encoding="utf-8")
            written.append(tmp / "README.md")
        staged.files = target.commit(tmp, written, {"kind": "stage", "rows": staged.rows}, overwrite_foreign=force)
    log.info("staged %s in %s", staged.rows, stage_dir)
    return staged


def staged_files(stage_dir: Path) -> list[str]:
    """The files a staging wrote into ``stage_dir`` (relative POSIX paths, from its manifest): the
    allow-list of what may be published. A folder without a manifest has nothing to publish."""
    from toolforge.export.manifest import OutputDir

    target = OutputDir(stage_dir, STAGE_MANIFEST, what="--stage-dir")
    files = sorted(f for f in target.owned() if (stage_dir / f).is_file() and not (stage_dir / f).is_symlink())
    if not files:
        raise InputError(f"{stage_dir} holds no staged dataset (no {STAGE_MANIFEST} listing its files)")
    return files
