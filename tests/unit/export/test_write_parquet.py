"""write_parquet (row-group size given up front) writes the bytes Dataset.to_parquet writes."""

from __future__ import annotations

import pytest

from toolforge.export.base import json_dataset, write_parquet


def _rows(n: int) -> list[dict]:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    return [{"id": f"r{i}", "scenario": "single_tool" if i % 3 else None,
             "messages": [{"role": "user", "content": f"hello {i} " * (i % 7)},
                          {"role": "assistant", "content": "", "tool_calls": [
                              {"type": "function", "function": {"name": "f", "arguments": {"x": i, "y": [1.5, None]}}}]}],
             "tools": tools, "meta": {"k": i, "nested": {"a": "é"}}} for i in range(n)]


@pytest.mark.parametrize("n", [1, 7, 2500])  # up to a few thousand rows (batch size from the data size)
def test_same_bytes_as_to_parquet(tmp_path, n):
    from datasets import Features, Json, List, Value  # type: ignore[attr-defined]

    feats = Features({"id": Value("string"), "scenario": Value("string"), "messages": List(Json()),
                      "tools": List(Json()), "meta": Json()})
    ds = json_dataset(_rows(n), feats)
    ds.to_parquet(str(tmp_path / "a.parquet"))
    write_parquet(ds, str(tmp_path / "b.parquet"))
    a, b = (tmp_path / "a.parquet").read_bytes(), (tmp_path / "b.parquet").read_bytes()
    assert a == b
    import pyarrow.parquet as pq

    assert pq.ParquetFile(tmp_path / "b.parquet").metadata.num_rows == n


def test_media_columns_take_the_plain_path(tmp_path):
    from datasets import Audio, Dataset, Features, List, Value  # type: ignore[attr-defined]

    feats = Features({"id": Value("string"), "audio": List({"bytes": Value("binary"), "path": Value("string")})})
    ds = Dataset.from_list([{"id": "a", "audio": [{"bytes": b"RIFF0000", "path": "a.wav"}]}], features=feats)
    ds = ds.cast_column("audio", List(Audio()))
    ds.to_parquet(str(tmp_path / "a.parquet"))
    write_parquet(ds, str(tmp_path / "b.parquet"))
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
