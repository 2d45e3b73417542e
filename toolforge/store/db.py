"""The DuckDB store: one file holds every stage's results, keyed by record id.

Open it with :func:`open_store` (a context manager). Migrations are applied on
open (write mode only). Writes are upserts by content id, so every stage can be
re-run or resumed. DuckDB allows one writing process at a time; a read-only
open works while no other process is writing.
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import struct
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from toolforge.errors import StoreError
from toolforge.record import Record
from toolforge.redact import redact
from toolforge.store import migrations as _migrations_pkg
from toolforge.store.bulk import insert_rows

log = logging.getLogger(__name__)

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


# A DuckDB file: a 4 KiB main header ("DUCK" at byte 8), two 4 KiB database headers, then blocks.
DUCKDB_MAGIC = b"DUCK"
_HEADER = 4096
_BLOCKS_START = 3 * _HEADER
_DEFAULT_BLOCK = 262144
# files that are data, not stores (DuckDB would open them as a view and store nothing)
DATA_SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".tsv", ".parquet", ".txt", ".yaml", ".yml", ".gz", ".zst")


def check_store_path(path: Path) -> str:
    """``"new"`` for a path with no file, ``"duckdb"`` for an intact DuckDB file.

    Anything else is refused with a :class:`StoreError` before DuckDB sees it: a folder, a data
    file (``.jsonl``, ``.csv``, ``.parquet``: DuckDB would open it as a view, report success and
    store nothing), a file that is not DuckDB's, and a DuckDB file shorter than its own header says
    (truncated: an interrupted copy or download).
    """
    if path.is_dir():
        raise StoreError(f"--db {path} is a folder, not a store file", hint="pass a .duckdb file or a new path")
    hint = "a store is a toolforge .duckdb file or a new path"
    if path.suffix.lower() in DATA_SUFFIXES:
        hint = f"{path.name} looks like a data file: import it with `toolforge import {path}` and pass --db a .duckdb path"
    if not path.exists():
        if path.suffix.lower() in DATA_SUFFIXES:
            raise StoreError(f"--db {path} names a {path.suffix} data file, not a store", hint=hint)
        return "new"
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(_BLOCKS_START)
    except OSError as exc:
        raise StoreError(f"cannot read store {path}: {exc.strerror or exc}") from None
    if size == 0:  # DuckDB refuses an empty file too; say so plainly (and never delete a user's file)
        raise StoreError(f"{path} is an empty file, not a toolforge store", hint="remove it, or pass --db a new path")
    if head[8:12] != DUCKDB_MAGIC:
        raise StoreError(f"{path} is not a toolforge store (not a DuckDB file)", hint=hint)
    why = _truncation(head, size)
    if why:
        raise StoreError(f"store {path} is damaged: the file is truncated ({why})",
                         hint="restore it from a copy; toolforge does not read or write a damaged store")
    return "duckdb"


def _truncation(head: bytes, size: int) -> str | None:
    """Why a DuckDB file of ``size`` bytes starting with ``head`` cannot be whole (None: it can be).

    After its three headers a DuckDB file holds whole blocks (the active database header
    gives their size), and the block holding the catalog metadata must be among them.
    DuckDB drops free blocks at the end of the file, so the header's block count is not
    a lower bound; a cut exactly at a block boundary past the metadata block is caught
    when a missing block is read (one line, from the CLI's store error handler).
    """
    if len(head) < _BLOCKS_START or size < _BLOCKS_START:
        return f"{size} bytes, shorter than its headers"
    active: tuple[int, int, int] | None = None  # (iteration, meta block pointer, block size)
    for off in (_HEADER, 2 * _HEADER):
        # checksum (8), then iteration, meta_block, free_list, block_count, block_alloc_size (8 bytes each)
        iteration, meta, _free, _count, block_size = struct.unpack_from("<QqqQQ", head, off + 8)
        if block_size == 0 or block_size > (1 << 30) or block_size % _HEADER:
            block_size = _DEFAULT_BLOCK  # files of older DuckDB versions have no block size here
        if active is None or iteration > active[0]:
            active = (iteration, meta, block_size)
    assert active is not None
    _, meta, block_size = active
    blocks, rest = divmod(size - _BLOCKS_START, block_size)
    if rest:
        return f"{size} bytes, {rest} past the last whole block of {block_size}"
    meta_block = meta & ((1 << 56) - 1)
    if meta >= 0 and meta_block >= blocks:
        return f"{size} bytes, its metadata block {meta_block} is past the end"
    return None


def _toolforge_version() -> str:
    from toolforge import __version__

    return __version__


def _refuse_newer(path: Path, applied: dict[str, str | None], known: list[str]) -> None:
    """Refuse to write a store holding migrations this toolforge does not have (made by a newer one)."""
    unknown = sorted(set(applied) - set(known))
    if not unknown:
        return
    versions = sorted({v for n, v in applied.items() if n in unknown and v})
    by = f"toolforge {', '.join(versions)}" if versions else "a newer toolforge"
    raise StoreError(
        f"store {path} was changed by {by} (migration {', '.join(unknown[:3])}"
        + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
        + f"); this is toolforge {_toolforge_version()}, which knows migrations up to {known[-1] if known else 'none'}"
        " and will not write to it",
        hint="upgrade toolforge, or work on a copy made by this version; read-only commands (list, stats, show) still work",
    )


class Store:
    """A connection to one store file. Use :func:`open_store` rather than this directly."""

    def __init__(self, path: str | Path, *, read_only: bool = False, create: bool = True) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._in_transaction = False
        if check_store_path(self.path) == "new":
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
            self._check_blocks()
            if not read_only:
                self.migrate()
            else:
                self._check_migrated()
        except duckdb.Error as exc:  # a truncated or foreign file: one line, not a traceback
            self.con.close()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"cannot read store {self.path}: {first[:200]}",
                             hint="the file is damaged or not a toolforge store") from None
        except BaseException:
            self.con.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing. Nested uses join the outer transaction (so a whole command, e.g. an
        import with its run row, can be one transaction over helpers that open their own)."""
        if self._in_transaction:
            yield self.con
            return
        self.con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")
        finally:
            self._in_transaction = False

    # -- migrations ----------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the migrations this store lacks; refuse a store that a newer toolforge changed."""
        known = _migration_modules()
        done = self._applied_migrations()
        if done is None:  # no _migrations table: a new file, or someone else's DuckDB database
            tables = self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'").fetchone()
            if tables and tables[0]:
                raise StoreError(f"{self.path} is a DuckDB database but not a toolforge store (no _migrations table)",
                                 hint="pass --db a toolforge .duckdb file or a new path")
            done = {}
        _refuse_newer(self.path, done, [name for name, _ in known])
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, "
            "applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
        )
        self.con.execute("ALTER TABLE _migrations ADD COLUMN IF NOT EXISTS toolforge_version VARCHAR")
        applied = []
        for name, mod in known:
            if name in done:
                continue
            with self.transaction() as con:
                if hasattr(mod, "up"):
                    mod.up(con)
                else:
                    con.execute(mod.SQL)
                con.execute("INSERT INTO _migrations (name, toolforge_version) VALUES (?, ?)",
                            [name, _toolforge_version()])
            applied.append(name)
        return applied

    def _check_blocks(self) -> None:
        """Refuse a file shorter than the blocks DuckDB says are in use (a cut on a block boundary
        passes the header check in :func:`check_store_path`)."""
        row = self.con.execute("PRAGMA database_size").fetchone()
        if not row or not self.path.exists():
            return
        block_size, used = int(row[2] or 0), int(row[4] or 0)
        size = self.path.stat().st_size
        if block_size and size < _BLOCKS_START + used * block_size:
            raise StoreError(f"store {self.path} is damaged: the file is truncated ({size} bytes hold fewer than "
                             f"its {used} blocks in use)",
                             hint="restore it from a copy; toolforge does not read or write a damaged store")

    def _applied_migrations(self) -> dict[str, str | None] | None:
        """``{migration name: toolforge version that applied it}``, or None without a _migrations table."""
        cols = {r[0] for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
            "AND table_name = '_migrations'").fetchall()}
        if not cols:
            return None
        version = "toolforge_version" if "toolforge_version" in cols else "NULL"
        return {r[0]: r[1] for r in self.con.execute(f"SELECT name, {version} FROM _migrations").fetchall()}

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
        """A new run row. Its name and config are redacted first (see toolforge.redact): a teacher URL's
        password or an api key in the options is never stored."""
        run_id = run_id or f"{kind}-{uuid.uuid4().hex[:12]}"
        self.con.execute(
            "INSERT INTO runs (id, kind, name, config) VALUES (?, ?, ?, ?)",
            [run_id, kind, redact(name) if name else name, json.dumps(redact(config or {}), default=str)],
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

    @contextmanager
    def run(self, kind: str, *, name: str | None = None, config: dict[str, Any] | None = None) -> Iterator[str]:
        """A run row for the block: ``done`` when it ends, ``failed`` when it raises (Ctrl-C included),
        so no failed command leaves a run marked ``running``."""
        run_id = self.create_run(kind, name=name, config=config)
        try:
            yield run_id
        except BaseException:
            try:
                self.set_run_status(run_id, "failed")
            except duckdb.Error:  # the transaction or connection failed: the original error says more
                log.debug("could not mark run %s as failed", run_id)
            raise
        self.set_run_status(run_id, "done")

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
    try:
        from toolforge.io.safejson import loads_stored

        parts = {"tools": loads_stored(tools), "messages": loads_stored(messages), "meta": loads_stored(meta)}
    except (RecursionError, MemoryError, ValueError) as exc:  # a row an older version stored without the limits
        from toolforge.errors import InputError
        from toolforge.io.safejson import unreadable

        raise InputError(f"stored record {rid}: {unreadable(exc)}",
                         hint="`toolforge validate` lists such records; remove them from the store to go on") from None
    return Record.model_validate({"scenario": scenario, **parts}, context={"stored_id": rid})


@contextmanager
def open_store(path: str | Path = DEFAULT_DB, *, read_only: bool = False, create: bool = True) -> Iterator[Store]:
    store = Store(path, read_only=read_only, create=create)
    try:
        yield store
    finally:
        store.close()
