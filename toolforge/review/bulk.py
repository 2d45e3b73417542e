"""Bulk writes for review tables, through the store's single-statement inserts
(:mod:`toolforge.store.bulk`): DuckDB's ``executemany`` costs milliseconds per row."""

from __future__ import annotations

import json
from collections.abc import Sequence

import duckdb

from toolforge.record import Record
from toolforge.store.bulk import insert_rows
from toolforge.store.db import RECORD_COLUMNS

__all__ = ["insert_revisions", "insert_rows"]


def insert_revisions(con: duckdb.DuckDBPyConnection, revisions: Sequence[tuple[Record, str, int]], *,
                     source: str = "review") -> None:
    """Store revised records in one statement: the rows ``Store.upsert_records`` writes, one per
    ``(record, parent_id, revision)``; a record already stored is left as it is."""
    rows = [(r.id, r.scenario, json.dumps(r.tools_dump(), ensure_ascii=False),
             json.dumps(r.messages_dump(), ensure_ascii=False), json.dumps(r.meta, ensure_ascii=False),
             source, None, parent, rev) for r, parent, rev in revisions]
    insert_rows(con, "records", RECORD_COLUMNS, rows, on_conflict="ON CONFLICT (id) DO NOTHING")
