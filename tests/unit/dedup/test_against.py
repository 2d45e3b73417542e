"""Decontamination: reference formats, split:NAME from the export history, marks."""

from __future__ import annotations

import json

import pytest

from tests.unit.dedup.corpus import make_record
from toolforge.dedup import make_config, run_dedup
from toolforge.dedup.against import load_reference
from toolforge.errors import InputError
from toolforge.store import Selection, open_store


def test_reference_formats(tmp_path):
    folder = tmp_path / "eval"
    folder.mkdir()
    (folder / "bfcl.json").write_text(json.dumps(
        {"id": "simple_1", "question": [[{"role": "user", "content": "Find the area of a triangle."}]],
         "function": []}) + "\n")
    (folder / "sharegpt.jsonl").write_text(json.dumps(
        {"conversations": [{"from": "system", "value": "s"}, {"from": "human", "value": "Hi there"},
                           {"from": "gpt", "value": "hello"}, {"from": "human", "value": "Second turn"}]}) + "\n")
    (folder / "xlam.json").write_text(json.dumps([{"id": 7, "query": "Weather in Rome?", "answers": "[]"}]))
    (folder / "notes.txt").write_text("ignored")
    items = {i.id: i for i in load_reference(str(folder))}
    assert items["simple_1"].user_turns == ["Find the area of a triangle."]
    assert items["sharegpt.jsonl:1"].user_turns == ["Hi there", "Second turn"]
    assert items["7"].user_turns == ["Weather in Rome?"]
    rec = make_record("Exact request", "q", "t", "a")
    single = tmp_path / "one.jsonl"
    single.write_text(json.dumps(rec.to_dict()) + "\n")
    [item] = load_reference(str(single))
    assert item.content_id == rec.id and item.first_user == "Exact request"


@pytest.fixture
def split_store(tmp_db, sample_records):
    held_out = sample_records[3]
    copy = held_out.to_dict()
    copy.pop("id")
    first_user = next(i for i, m in enumerate(copy["messages"]) if m["role"] == "user")
    copy["messages"][first_user]["content"] = copy["messages"][first_user]["content"].upper() + "!!"
    copy["messages"][-1]["content"] = "Rephrased answer."
    from toolforge.record import Record

    leaked = Record.model_validate(copy)
    with open_store(tmp_db) as store:
        store.upsert_records([*sample_records, leaked], source="test")
        store.con.execute("INSERT INTO export_runs (run_id, kind, format, target, n_records) "
                          "VALUES ('export-1', 'export', 'openai', 'out', 9)")
        store.con.execute("INSERT INTO export_splits VALUES ('export-1', ?, 'test')", [held_out.id])
        for r in sample_records:
            if r.id != held_out.id:
                store.con.execute("INSERT INTO export_splits VALUES ('export-1', ?, 'train')", [r.id])
    return tmp_db, held_out, leaked


@pytest.mark.parametrize("method", ["exact", "near"])
def test_against_an_exported_split(split_store, method):
    db, held_out, leaked = split_store
    with open_store(db) as store:
        res = run_dedup(store, make_config(method=method, against="split:test"))
        assert res.reference_items == 1 and res.records == 8  # the held-out record is the reference
        assert res.marked == 1 and res.largest[0]["record_id"] == leaked.id
        assert res.largest[0]["ref_id"] == held_out.id
        kept = set(store.select_ids(Selection()))
    assert leaked.id not in kept and held_out.id in kept


def test_unknown_split(split_store):
    db, _, _ = split_store
    with open_store(db) as store, pytest.raises(InputError, match="no export has a split named 'dev'"):
        run_dedup(store, make_config(method="near", against="split:dev"))


def test_rechecking_keeps_one_mark_per_record(split_store, tmp_path):
    db, held_out, leaked = split_store
    with open_store(db) as store:
        run_dedup(store, make_config(method="exact", against="split:test"))
        run_dedup(store, make_config(method="near", against="split:test"))
        rows = store.con.execute("SELECT record_id, method FROM dedup_marks").fetchall()
        contamination = store.con.execute("SELECT method FROM dedup_contamination ORDER BY 1").fetchall()
    assert rows == [(leaked.id, "against")]
    assert contamination == [("exact",), ("near",)]
