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
import json
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
SHARD_BYTES = 256 * 1024 * 1024  # start a new shard past this (estimated) size


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


def _write_shards(rows: list[dict[str, Any]], split: str, data_dir: Path, with_audio: bool) -> list[Path]:
    from datasets import Audio, List  # type: ignore[attr-defined]  # mypy sees the repo's datasets/ folder
    from toolforge.export.base import json_dataset, write_parquet

    shards: list[list[dict[str, Any]]] = [[]]
    size = 0
    for row in rows:
        est = len(json.dumps(row["messages"], ensure_ascii=False)) + sum(len(c["bytes"]) for c in row.get("audio", []))
        if shards[-1] and size + est > SHARD_BYTES:
            shards.append([])
            size = 0
        shards[-1].append(row)
        size += est
    paths = []
    for i, shard in enumerate(shards):
        ds = json_dataset(shard, _features(with_audio))  # Dataset.from_list's table, built as Arrow columns
        if with_audio:  # bytes are already embedded: a cast, no audio encoding (no torchcodec needed)
            ds = ds.cast_column("audio", List(Audio()))
        path = data_dir / f"{split}-{i:05d}-of-{len(shards):05d}.parquet"
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
