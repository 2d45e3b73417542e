"""Writers fed the stored JSON (PlainRecord, no model per record) write the same bytes as when fed
Record models, and json_dataset builds the table Dataset.from_list builds (same Parquet bytes)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from toolforge.export import ExportOptions, export_dataset, make_splits, select_records
from toolforge.export.base import PlainRecord, json_dataset
from toolforge.record import Record
from toolforge.store import Selection, open_store


@pytest.fixture
def store(sample_dicts, tmp_path):
    recs = []
    for i in range(60):
        d = copy.deepcopy(sample_dicts[i % len(sample_dicts)])
        d["messages"][1]["content"] += f" (variant {i}, é ✓)"
        if i % 5 == 0:
            d.pop("scenario", None)
        d["meta"] = {"n": i, "note": "ü"} if i % 2 else {}
        recs.append(Record.model_validate(d))
    with open_store(tmp_path / "s.duckdb") as s:
        s.upsert_records(recs, source="test")
        yield s


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".jsonl", ".parquet")}


@pytest.mark.parametrize("fmt", ["openai", "trl"])
@pytest.mark.parametrize("think", ["tags", "field", "drop"])
def test_plain_and_model_paths_write_identical_files(store, tmp_path, fmt, think, monkeypatch):
    import importlib

    mod = importlib.import_module(f"toolforge.export.{fmt}")
    assert mod.PLAIN is True
    opts = {"format": fmt, "test_fraction": 0.2, "seed": 3, "think": think, "selection": Selection(status="any")}
    export_dataset(store, ExportOptions(out=tmp_path / "plain", **opts))
    monkeypatch.setattr(mod, "PLAIN", False)  # the writers as they ran before: a Record model per record
    export_dataset(store, ExportOptions(out=tmp_path / "model", **opts))
    plain, model = _files(tmp_path / "plain"), _files(tmp_path / "model")
    assert set(plain) == {f"train.{'jsonl' if fmt == 'openai' else 'parquet'}",
                          f"test.{'jsonl' if fmt == 'openai' else 'parquet'}"}
    assert plain == model


def test_plain_records_match_the_models(store):
    plain = select_records(store, Selection(status="any"), plain=True)
    models = select_records(store, Selection(status="any"))
    assert [p.id for p in plain] == [m.id for m in models]
    for p, m in zip(plain, models, strict=True):
        assert isinstance(p, PlainRecord)
        assert (p.scenario, p.meta, p.tools_dump(), p.messages_dump()) == \
               (m.scenario, m.meta, m.tools_dump(), m.messages_dump())
        assert p.messages == m.messages  # anything else is the model's view, built on first use


def test_push_staging_from_plain_records_is_identical(store, tmp_path):
    from toolforge.hub.stage import stage_dataset

    for name, plain in (("plain", True), ("model", False)):
        recs = select_records(store, Selection(status="any"), plain=plain)
        stage_dataset(store, make_splits(store, recs, test_fraction=0.25, seed=1), tmp_path / name, think="tags")
    plain_files = {p.relative_to(tmp_path / "plain"): p.read_bytes() for p in (tmp_path / "plain" / "data").iterdir()}
    model_files = {p.relative_to(tmp_path / "model"): p.read_bytes() for p in (tmp_path / "model" / "data").iterdir()}
    assert len(plain_files) >= 2 and plain_files == model_files


def test_json_dataset_is_from_list(tmp_path):
    from datasets import Dataset, Features, Json, List, Value  # type: ignore[attr-defined]

    feats = Features({"id": Value("string"), "scenario": Value("string"), "messages": List(Json()),
                      "tools": List(Json()), "meta": Json()})
    shared = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    rows = [{"id": f"r{i}", "scenario": None if i % 3 == 0 else "single_tool",
             "messages": [{"role": "user", "content": f"é {i}"},
                          {"role": "assistant", "content": "", "tool_calls": [
                              {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"x": 1.5, "y": [i]}}}]}],
             "tools": shared if i % 2 else [], "meta": {"k": i} if i % 4 else None} for i in range(40)]
    Dataset.from_list(rows, features=feats).to_parquet(str(tmp_path / "a.parquet"))
    json_dataset(rows, feats).to_parquet(str(tmp_path / "b.parquet"))
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    # a feature it does not build itself falls back to from_list
    odd = Features({"id": Value("string"), "n": Value("int32")})
    assert json_dataset([{"id": "a", "n": 1}], odd).to_list() == [{"id": "a", "n": 1}]


@pytest.mark.parametrize("think", ["tags", "field", "drop"])
def test_openai_lines_are_json_dumps_of_the_row(store, tmp_path, think):
    from toolforge.export.base import write_jsonl
    from toolforge.export.openai import lines, row

    for plain in (True, False):
        recs = select_records(store, Selection(status="any"), plain=plain)
        write_jsonl(tmp_path / "before.jsonl", (row(r, think=think) for r in recs))  # the writer as it was
        assert (tmp_path / "before.jsonl").read_text(encoding="utf-8") == "".join(lines(recs, think=think))
        assert any('"parallel_tool_calls": true' in x for x in lines(recs, think=think))
