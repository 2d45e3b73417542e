"""The DuckDB store: one file holds every stage's results, keyed by record id.

Open it with :func:`open_store` (a context manager). Migrations are applied on
open (write mode only). Writes are upserts by content id, so every stage can be
re-run or resumed. DuckDB allows one writing process at a time; a read-only
open works while no other process is writing.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from toolforge.errors import StoreError
from toolforge.record import Record
from toolforge.store import migrations as _migrations_pkg
from toolforge.store.bulk import insert_rows

DEFAULT_DB = "toolforge.duckdb"

RECORD_COLUMNS = (("id", "VARCHAR"), ("scenario", "VARCHAR"), ("tools", "JSON"), ("messages", "JSON"),
                  ("meta", "JSON"), ("source", "VARCHAR"), ("run_id", "VARCHAR"), ("parent_id", "VARCHAR"),
                  ("revision", "INTEGER"))
ISSUE_COLUMNS = (("record_id", "VARCHAR"), ("stage", "VARCHAR"), ("code", "VARCHAR"), ("path", "VARCHAR"),
                 ("message", "VARCHAR"), ("severity", "VARCHAR"))
VALIDATION_COLUMNS = (("record_id", "VARCHAR"), ("stage", "VARCHAR"), ("ok", "BOOLEAN"), ("n_issues", "INTEGER"))


def _migration_modules() -> list[tuple[str, Any]]:
    mods = []
    for info in pkgutil.iter_modules(_migrations_pkg.__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            mods.append((info.name, importlib.import_module(f"{_migrations_pkg.__name__}.{info.name}")))
    return sorted(mods, key=lambda m: m[0])


class Store:
    """A connection to one store file. Use :func:`open_store` rather than this directly."""

    def __init__(self, path: str | Path, *, read_only: bool = False, create: bool = True) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if not self.path.exists():
            if read_only or not create:
                raise StoreError(
                    f"no store at {self.path}",
                    hint="create one with `toolforge import` or `toolforge generate`, or pass --db",
                )
            if self.path.parent and not self.path.parent.exists():
                raise StoreError(f"folder {self.path.parent} does not exist")
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(
                f"cannot open store {self.path}: {first}",
                hint="check that it is a toolforge .duckdb file and no other process is writing to it",
            ) from None
        try:
            if not read_only:
                self.migrate()
            else:
                self._check_migrated()
        except duckdb.Error as exc:  # a truncated or foreign file: one line, not a traceback
            self.con.close()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"cannot read store {self.path}: {first[:200]}",
                             hint="the file is damaged or not a toolforge store") from None

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    # -- migrations ----------------------------------------------------------------------
    def migrate(self) -> list[str]:
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, "
            "applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
        )
        done = {r[0] for r in self.con.execute("SELECT name FROM _migrations").fetchall()}
        applied = []
        for name, mod in _migration_modules():
            if name in done:
                continue
            with self.transaction() as con:
                if hasattr(mod, "up"):
                    mod.up(con)
                else:
                    con.execute(mod.SQL)
                con.execute("INSERT INTO _migrations (name) VALUES (?)", [name])
            applied.append(name)
        return applied

    def _check_migrated(self) -> None:
        try:
            self.con.execute("SELECT count(*) FROM _migrations").fetchone()
        except duckdb.Error:
            raise StoreError(f"{self.path} is not a toolforge store (no _migrations table)") from None

    def has_table(self, name: str) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        return bool(row and row[0])

    # -- runs ----------------------------------------------------------------------------
    def create_run(self, kind: str, *, name: str | None = None, config: dict[str, Any] | None = None,
                   run_id: str | None = None) -> str:
        run_id = run_id or f"{kind}-{uuid.uuid4().hex[:12]}"
        self.con.execute(
            "INSERT INTO runs (id, kind, name, config) VALUES (?, ?, ?, ?)",
            [run_id, kind, name, json.dumps(config or {})],
        )
        return run_id

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        return self._one_dict("SELECT * FROM runs WHERE id = ?", [run_id])

    def find_run_by_name(self, kind: str, name: str) -> dict[str, Any] | None:
        return self._one_dict(
            "SELECT * FROM runs WHERE kind = ? AND name = ? ORDER BY created_at DESC LIMIT 1", [kind, name]
        )

    def set_run_status(self, run_id: str, status: str) -> None:
        self.con.execute(
            "UPDATE runs SET status = ?, updated_at = current_timestamp WHERE id = ?", [status, run_id]
        )

    # -- records -------------------------------------------------------------------------
    def upsert_records(self, records: Iterable[Record], *, source: str, run_id: str | None = None,
                       parent_id: str | None = None, revision: int = 0) -> int:
        """Insert records that are not stored yet; returns how many were new.

        A record already stored (same content id) is left as it is, so
        re-imports and resumed runs never duplicate anything.
        """
        rows = []
        seen: set[str] = set()
        for rec in records:
            assert rec.id is not None
            if rec.id in seen:
                continue
            seen.add(rec.id)
            rows.append((rec.id, rec.scenario, json.dumps(rec.tools_dump(), ensure_ascii=False),
                         json.dumps(rec.messages_dump(), ensure_ascii=False),
                         json.dumps(rec.meta, ensure_ascii=False), source, run_id, parent_id, revision))
        if not rows:
            return 0
        before = self.count_records()
        with self.transaction() as con:
            insert_rows(con, "records", RECORD_COLUMNS, rows, on_conflict="ON CONFLICT (id) DO NOTHING")
        return self.count_records() - before

    def count_records(self) -> int:
        row = self.con.execute("SELECT count(*) FROM records").fetchone()
        return int(row[0]) if row else 0

    def get_record(self, record_id: str) -> Record | None:
        row = self.con.execute(
            "SELECT id, scenario, tools, messages, meta FROM records WHERE id = ?", [record_id]
        ).fetchone()
        return _row_to_record(row) if row else None

    def find_ids(self, prefix: str) -> list[str]:
        rows = self.con.execute(
            "SELECT id FROM records WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 10",
            [prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"],
        ).fetchall()
        return [r[0] for r in rows]

    def iter_records(self, selection: Any = None, *, batch_size: int = 1000) -> Iterator[Record]:
        """Records matching a :class:`toolforge.store.select.Selection`, ordered by creation."""
        from toolforge.store.select import Selection, selection_sql

        where, params = selection_sql(selection or Selection(), self)
        cur = self.con.cursor()
        cur.execute(
            f"SELECT r.id, r.scenario, r.tools, r.messages, r.meta FROM records r WHERE {where} "
            "ORDER BY r.created_at, r.id",
            params,
        )
        while True:
            rows = cur.fetchmany(batch_size)
            if not rows:
                break
            for row in rows:
                yield _row_to_record(row)

    def select_ids(self, selection: Any = None) -> list[str]:
        from toolforge.store.select import Selection, selection_sql

        where, params = selection_sql(selection or Selection(), self)
        return [r[0] for r in self.con.execute(
            f"SELECT r.id FROM records r WHERE {where} ORDER BY r.created_at, r.id", params).fetchall()]

    # -- validation results ------------------------------------------------------------------
    def replace_issues(self, stage: str, results: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Store validation results for ``stage``: ``[(record_id, [issue, ...]), ...]``.

        Each issue has ``code``, ``path``, ``message`` and optionally ``severity``
        attributes (see ``toolforge.validate``). Previous results of the same
        stage for those records are replaced in one transaction.
        """
        if not results:
            return
        ids = [rid for rid, _ in results]
        issue_rows = []
        val_rows = []
        for rid, issues in results:
            n_err = 0
            for iss in issues:
                sev = getattr(iss, "severity", "error")
                n_err += sev == "error"
                issue_rows.append((rid, stage, iss.code, iss.path, iss.message, sev))
            val_rows.append((rid, stage, n_err == 0, len(issues)))
        with self.transaction() as con:
            con.execute("DELETE FROM issues WHERE stage = ? AND record_id IN (SELECT unnest(?::VARCHAR[]))",
                        [stage, ids])
            con.execute("DELETE FROM validations WHERE stage = ? AND record_id IN (SELECT unnest(?::VARCHAR[]))",
                        [stage, ids])
            insert_rows(con, "issues", ISSUE_COLUMNS, issue_rows)
            insert_rows(con, "validations", VALIDATION_COLUMNS, val_rows)

    def issues_for(self, record_id: str) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT stage, code, path, message, severity FROM issues WHERE record_id = ? ORDER BY stage, path",
            [record_id],
        )

    # -- helpers -------------------------------------------------------------------------
    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def _one_dict(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self._dicts(sql, params)
        return rows[0] if rows else None


def _row_to_record(row: Sequence[Any]) -> Record:
    """A stored row as a Record. Its id was computed from the same content when it was
    written (writes go through Record), so it is passed through instead of re-hashed."""
    rid, scenario, tools, messages, meta = row
    return Record.model_validate(
        {"scenario": scenario, "tools": json.loads(tools), "messages": json.loads(messages),
         "meta": json.loads(meta)},
        context={"stored_id": rid},
    )


@contextmanager
def open_store(path: str | Path = DEFAULT_DB, *, read_only: bool = False, create: bool = True) -> Iterator[Store]:
    store = Store(path, read_only=read_only, create=create)
    try:
        yield store
    finally:
        store.close()
