"""Stage bookkeeping in the store's ``pipeline_stages`` table (migration m0800)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolforge.store.db import Store


def config_sha(value: Any) -> str:
    """A short, stable hash of a JSON-able stage configuration."""
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass
class StageRow:
    recipe: str
    stage: str
    status: str
    config_sha: str
    run_id: str | None
    counts: dict[str, Any]
    error: str | None


def get_stage(store: Store, recipe: str, stage: str) -> StageRow | None:
    row = store.con.execute(
        "SELECT recipe, stage, status, config_sha, run_id, counts, error FROM pipeline_stages "
        "WHERE recipe = ? AND stage = ?", [recipe, stage]).fetchone()
    if not row:
        return None
    return StageRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]) if row[5] else {}, row[6])


def all_stages(store: Store, recipe: str) -> dict[str, StageRow]:
    rows = store.con.execute("SELECT stage FROM pipeline_stages WHERE recipe = ?", [recipe]).fetchall()
    out = {}
    for (name,) in rows:
        got = get_stage(store, recipe, name)
        if got:
            out[name] = got
    return out


def _put(store: Store, recipe: str, stage: str, status: str, sha: str, *, run_id: str | None = None,
         counts: dict[str, Any] | None = None, error: str | None = None, finished: bool = False) -> None:
    with store.transaction() as con:
        con.execute("DELETE FROM pipeline_stages WHERE recipe = ? AND stage = ?", [recipe, stage])
        con.execute(
            "INSERT INTO pipeline_stages (recipe, stage, status, config_sha, run_id, counts, error, finished_at) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, {'current_timestamp' if finished else 'NULL'})",
            [recipe, stage, status, sha, run_id, json.dumps(counts or {}, default=str), error])


def mark_running(store: Store, recipe: str, stage: str, sha: str, run_id: str | None = None) -> None:
    _put(store, recipe, stage, "running", sha, run_id=run_id)


def mark_done(store: Store, recipe: str, stage: str, sha: str, counts: dict[str, Any],
              run_id: str | None = None) -> None:
    _put(store, recipe, stage, "done", sha, run_id=run_id, counts=counts, finished=True)


def mark_waiting(store: Store, recipe: str, stage: str, sha: str, counts: dict[str, Any]) -> None:
    _put(store, recipe, stage, "waiting", sha, counts=counts)


def mark_failed(store: Store, recipe: str, stage: str, sha: str, error: str) -> None:
    _put(store, recipe, stage, "failed", sha, error=error[:500], finished=True)


def invalidate(store: Store, recipe: str, stages: list[str]) -> None:
    """Forget that these stages are done (an earlier stage changed their input)."""
    if not stages:
        return
    store.con.execute(
        f"DELETE FROM pipeline_stages WHERE recipe = ? AND stage IN ({', '.join('?' for _ in stages)})",
        [recipe, *stages])
