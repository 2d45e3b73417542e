from __future__ import annotations

import pytest

from toolforge.errors import StoreError
from toolforge.store import Selection, open_store


def test_upsert_is_idempotent(tmp_db, sample_records):
    with open_store(tmp_db) as store:
        assert store.upsert_records(sample_records, source="test") == len(sample_records)
        assert store.upsert_records(sample_records, source="test") == 0
        assert store.count_records() == len(sample_records)


def test_round_trip_keeps_content_id(filled_db, sample_records):
    with open_store(filled_db, read_only=True) as store:
        for rec in sample_records:
            got = store.get_record(rec.id)
            assert got is not None and got.to_dict() == rec.to_dict()


def test_migrations_recorded_once(tmp_db):
    with open_store(tmp_db) as store:
        names = [r[0] for r in store.con.execute("SELECT name FROM _migrations").fetchall()]
        assert names and names == sorted(names)
    with open_store(tmp_db) as store:
        assert store.migrate() == []


def test_selection_filters(filled_db, sample_records):
    with open_store(filled_db) as store:
        first = sample_records[0].id
        store.replace_issues("schema", [(r.id, []) for r in sample_records])
        store.con.execute("INSERT INTO dedup_marks (record_id, method, cluster_id, kept_id) VALUES (?, 'exact', 'c', 'x')",
                          [first])
        valid = store.select_ids(Selection(status="valid"))
        assert first not in valid and len(valid) == len(sample_records) - 1
        assert len(store.select_ids(Selection(status="valid", include_duplicates=True))) == len(sample_records)
        assert store.select_ids(Selection(scenarios=["no_tool_needed"])) == [
            r.id for r in sample_records if r.scenario == "no_tool_needed"]


def test_corrupt_file_is_a_store_error(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a database" * 100)
    before = bad.read_bytes()
    with pytest.raises(StoreError), open_store(bad):
        pass
    assert bad.read_bytes() == before


def test_read_only_missing_store(tmp_path):
    with pytest.raises(StoreError, match="no store"), open_store(tmp_path / "nope.duckdb", read_only=True):
        pass
