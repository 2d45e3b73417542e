"""Push staging's shard sizes come from the Arrow column it builds anyway (no json.dumps per row):
the files are byte for byte those of the earlier per-row path, and shards split where the UTF-8
bytes of the encoded messages say."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from toolforge.export import make_splits, select_records
from toolforge.hub import stage
from toolforge.record import Record
from toolforge.store import Selection, open_store


@pytest.fixture
def store(sample_dicts, tmp_path):
    recs = []
    for i in range(80):
        d = copy.deepcopy(sample_dicts[i % len(sample_dicts)])
        d["messages"][1]["content"] += f" (variant {i}, é ✓ 漢字)" * (1 + i % 4)
        d["meta"] = {"n": i} if i % 2 else {}
        recs.append(Record.model_validate(d))
    with open_store(tmp_path / "s.duckdb") as s:
        s.upsert_records(recs, source="test")
        yield s


def _old_write_shards(rows: list[dict[str, Any]], split: str, data_dir: Path, with_audio: bool) -> list[Path]:
    """The staging's writer before this change (a json.dumps per row to estimate the size)."""
    from toolforge.export.base import json_dataset, write_parquet

    shards: list[list[dict[str, Any]]] = [[]]
    size = 0
    for row in rows:
        est = len(json.dumps(row["messages"], ensure_ascii=False)) + sum(len(c["bytes"]) for c in row.get("audio", []))
        if shards[-1] and size + est > stage.SHARD_BYTES:
            shards.append([])
            size = 0
        shards[-1].append(row)
        size += est
    paths = []
    for i, shard in enumerate(shards):
        path = data_dir / f"{split}-{i:05d}-of-{len(shards):05d}.parquet"
        write_parquet(json_dataset(shard, stage._features(with_audio)), str(path))
        paths.append(path)
    return paths


def _stage(store, folder: Path) -> dict[str, bytes]:
    recs = select_records(store, Selection(status="any"), plain=True)
    stage.stage_dataset(store, make_splits(store, recs, test_fraction=0.25, seed=3), folder, think="tags")
    return {p.name: p.read_bytes() for p in sorted((folder / "data").iterdir())}


def test_single_shard_files_are_byte_identical_to_the_per_row_path(store, tmp_path, monkeypatch):
    new = _stage(store, tmp_path / "new")
    monkeypatch.setattr(stage, "_write_shards", _old_write_shards)
    old = _stage(store, tmp_path / "old")
    assert len(new) >= 2 and new == old


def test_row_bytes_are_the_utf8_bytes_of_the_encoded_messages(store):
    from datasets.utils.json import ujson_dumps

    from toolforge.export.base import json_dataset
    from toolforge.export.convert import chat_messages

    recs = select_records(store, Selection(status="any"), plain=True)
    rows = [stage._row(r, None, False, "tags") for r in recs]
    got = stage._row_bytes(json_dataset(rows, stage._features(False)), rows)
    want = [sum(len(ujson_dumps(m).encode("utf-8")) for m in chat_messages(r, think="tags")) for r in recs]
    assert got == want and len(set(got)) > 3
    # with audio the clip bytes count too
    rows[0]["audio"], rows[0]["audio_turns"], rows[0]["audio_roles"] = [{"bytes": b"x" * 1000, "path": "a.wav"}], [0], ["user"]
    for r in rows[1:]:
        r["audio"], r["audio_turns"], r["audio_roles"] = [], [], []
    got_a = stage._row_bytes(json_dataset(rows, stage._features(True)), rows)
    assert got_a == [want[0] + 1000, *want[1:]]


def test_shard_bounds():
    assert stage.shard_bounds([5, 5, 5], 10) == [(0, 2), (2, 3)]
    assert stage.shard_bounds([20, 1, 1], 10) == [(0, 1), (1, 3)]  # an oversized row is a shard of its own
    assert stage.shard_bounds([], 10) == []


def test_several_shards_hold_every_row_in_order_and_match_a_per_shard_build(store, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from toolforge.export.base import json_dataset, write_parquet

    recs = select_records(store, Selection(status="any"), plain=True)
    rows = [stage._row(r, None, False, "tags") for r in recs]
    sizes = stage._row_bytes(json_dataset(rows, stage._features(False)), rows)
    monkeypatch.setattr(stage, "SHARD_BYTES", sum(sizes) // 5)
    out = tmp_path / "data"
    out.mkdir()
    paths = stage._write_shards(rows, "train-x", out, False)
    assert len(paths) >= 5
    ids = [i for p in paths for i in pq.read_table(p).column("id").to_pylist()]
    assert ids == [r["id"] for r in rows]
    start = 0
    ref = tmp_path / "ref.parquet"
    for p in paths:
        n = pq.read_metadata(p).num_rows
        assert sum(sizes[start:start + n]) <= stage.SHARD_BYTES or n == 1
        if start + n < len(rows):  # the next row would not have fit
            assert sum(sizes[start:start + n + 1]) > stage.SHARD_BYTES
        write_parquet(json_dataset(rows[start:start + n], stage._features(False)), str(ref))
        assert p.read_bytes() == ref.read_bytes()
        start += n
