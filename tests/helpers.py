"""Small helpers shared by tests (not fixtures)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb


def store_digest(db: Path) -> str:
    """A hash of every table's rows in a store: equal digests mean nothing stored changed.

    (The file's bytes are not compared: DuckDB may rewrite pages on open without changing data.)
    """
    if not Path(db).exists():
        return "absent"
    con = duckdb.connect(str(db), read_only=True)
    try:
        h = hashlib.sha256()
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name").fetchall()]
        for t in tables:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [t]).fetchall()]
            h.update(t.encode())
            for row in con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall():
                h.update(repr(row).encode())
            h.update(",".join(cols).encode())
        return h.hexdigest()
    finally:
        con.close()
