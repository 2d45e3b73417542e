"""Bulk writes for review tables: a DataFrame scan instead of ``executemany``.

DuckDB's ``executemany`` costs about a millisecond per row; registering the
rows as a pandas frame (pandas comes with ``label-studio-sdk``) and inserting
with one ``INSERT ... SELECT`` takes milliseconds for ten thousand rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import duckdb

from toolforge.record import Record


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[tuple[str, str]],
                rows: Sequence[Sequence[Any]], *, on_conflict: str = "") -> None:
    """``INSERT INTO table (columns) <rows> [on_conflict]``; ``columns`` are ``(name, sql type)`` pairs."""
    if not rows:
        return
    import pandas as pd

    names = [c for c, _ in columns]
    frame = pd.DataFrame([list(r) for r in rows], columns=names, dtype=object)
    view = f"_tf_rows_{uuid.uuid4().hex[:8]}"
    con.register(view, frame)
    try:
        select = ", ".join(f'CAST("{c}" AS {t})' for c, t in columns)
        con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {select} FROM {view} {on_conflict}")
    finally:
        con.unregister(view)


RECORD_COLUMNS = (("id", "VARCHAR"), ("scenario", "VARCHAR"), ("tools", "JSON"), ("messages", "JSON"),
                  ("meta", "JSON"), ("source", "VARCHAR"), ("run_id", "VARCHAR"), ("parent_id", "VARCHAR"),
                  ("revision", "INTEGER"))


def insert_revisions(con: duckdb.DuckDBPyConnection, revisions: Sequence[tuple[Record, str, int]], *,
                     source: str = "review") -> None:
    """Store revised records in one statement: the rows ``Store.upsert_records`` writes, one per
    ``(record, parent_id, revision)``; a record already stored is left as it is."""
    rows = [(r.id, r.scenario, json.dumps(r.tools_dump(), ensure_ascii=False),
             json.dumps(r.messages_dump(), ensure_ascii=False), json.dumps(r.meta, ensure_ascii=False),
             source, None, parent, rev) for r, parent, rev in revisions]
    insert_rows(con, "records", RECORD_COLUMNS, rows, on_conflict="ON CONFLICT (id) DO NOTHING")
