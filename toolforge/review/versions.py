"""Task versions in a project: which task is live for a record, which are superseded or deleted.

- live: ``review_tasks`` (one per record and project);
- superseded: a newer task replaces it (new audio after it was annotated, or a revision of the
  record got its own task). The old task stays on the server, marked (``review_state`` =
  ``superseded``, a line saying which task replaces it, closed in the labeling queue); annotations
  on it count for the record version they were made on, never for the new one;
- deleted: gone from the server (a lead deleted it); push does not re-create it unless ``--restore``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from toolforge.review.bulk import insert_rows
from toolforge.review.client import LabelStudio
from toolforge.review.tasks import task_record_id
from toolforge.store.db import Store

log = logging.getLogger(__name__)


@dataclass
class ProjectTasks:
    live: dict[str, tuple[int, str, str | None]] = field(default_factory=dict)  # record -> (task, data sha, version)
    superseded: dict[int, str] = field(default_factory=dict)                      # task id -> record id
    deleted: set[str] = field(default_factory=set)                                # records whose task was deleted

    def expected_on_server(self) -> int:
        return len({t for t, _s, _v in self.live.values()} | set(self.superseded))


def load(store: Store, url: str, project_id: int) -> ProjectTasks:
    out = ProjectTasks()
    for rid, tid, sha, version in store.con.execute(
            "SELECT record_id, task_id, data_sha, version_sha FROM review_tasks WHERE url = ? AND project_id = ?",
            [url, project_id]).fetchall():
        out.live[rid] = (int(tid), sha, version)
    for tid, rid, st in store.con.execute(
            "SELECT task_id, record_id, state FROM review_retired_tasks WHERE url = ? AND project_id = ?",
            [url, project_id]).fetchall():
        if st == "superseded":
            out.superseded[int(tid)] = rid
        elif st == "deleted":
            out.deleted.add(rid)
    out.deleted -= set(out.live)
    return out


@dataclass
class SyncResult:
    adopted: int = 0
    duplicates: int = 0
    deleted: int = 0


def sync_with_server(store: Store, ls: LabelStudio, project_id: int, state: ProjectTasks) -> SyncResult:
    """Reconcile the store's task map with the server (a push that died half-way, tasks imported by
    hand, tasks deleted by a lead). Updates ``state`` and the store."""
    on_server = _server_tasks(ls, project_id)
    res = SyncResult()
    by_record: dict[str, list[int]] = {}
    for tid, rid in sorted(on_server.items()):
        if tid in state.superseded:
            continue
        by_record.setdefault(rid, []).append(tid)
    gone = [(rid, tid) for rid, (tid, _s, _v) in state.live.items() if tid not in on_server]
    adopted: list[tuple[str, int, str]] = []
    for rid, tids in by_record.items():
        mine = state.live.get(rid)
        if mine and mine[0] in tids:
            res.duplicates += len(tids) - 1
            continue
        res.duplicates += len(tids) - 1
        adopted.append((rid, tids[0], on_server_sha(ls, project_id, tids[0])))
    res.adopted = len(adopted)
    gone_records = {rid for rid, _tid in gone} - {rid for rid, _t, _s in adopted}
    res.deleted = len(gone_records)
    with store.transaction() as con:
        for rid, tid in gone:
            con.execute("DELETE FROM review_tasks WHERE url = ? AND project_id = ? AND record_id = ?",
                        [ls.url, project_id, rid])
            state.live.pop(rid, None)
            if rid in gone_records:
                _retire_row(con, ls.url, project_id, tid, rid, "deleted", "deleted on the server", None)
                state.deleted.add(rid)
        for tid in list(state.superseded):
            if tid not in on_server:  # a superseded task deleted on the server: nothing left to count
                con.execute("UPDATE review_retired_tasks SET state = 'gone' WHERE url = ? AND project_id = ? "
                            "AND task_id = ?", [ls.url, project_id, tid])
                state.superseded.pop(tid)
        rows = [(ls.url, project_id, rid, tid, sha, None, None) for rid, tid, sha in adopted]
        if rows:
            from toolforge.review.push import TASK_COLUMNS

            insert_rows(con, "review_tasks", TASK_COLUMNS, rows,
                        on_conflict="ON CONFLICT (url, project_id, record_id) DO UPDATE SET "
                                    "task_id = excluded.task_id, data_sha = excluded.data_sha")
            for rid, tid, sha in adopted:
                state.live[rid] = (tid, sha, None)
                state.deleted.discard(rid)
    return res


_SHA_CACHE: dict[tuple[str, int], dict[int, str]] = {}


def _server_tasks(ls: LabelStudio, project_id: int) -> dict[int, str]:
    out: dict[int, str] = {}
    shas: dict[int, str] = {}
    for task in ls.export(project_id, all_tasks=True):
        rid, _problem = task_record_id(task)
        if rid is not None:
            out[int(task["id"])] = rid
            shas[int(task["id"])] = str((task.get("meta") or {}).get("data_sha", ""))
    _SHA_CACHE[(ls.url, project_id)] = shas
    return out


def on_server_sha(ls: LabelStudio, project_id: int, task_id: int) -> str:
    return _SHA_CACHE.get((ls.url, project_id), {}).get(task_id, "")


def _retire_row(con: Any, url: str, project_id: int, task_id: int, record_id: str, state: str, reason: str,
                replaced_by: int | None) -> None:
    con.execute(
        "INSERT INTO review_retired_tasks (url, project_id, task_id, record_id, state, reason, replaced_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url, project_id, task_id) DO UPDATE SET state = excluded.state, "
        "reason = excluded.reason, replaced_by = excluded.replaced_by, retired_at = now()::TIMESTAMP",
        [url, project_id, task_id, record_id, state, reason, replaced_by])


def retire(store: Store, ls: LabelStudio, project_id: int, task_id: int, record_id: str, reason: str, *,
           replaced_by: int) -> None:
    """Mark ``task_id`` superseded by ``replaced_by``: in the store, and on the task itself."""
    _retire_row(store.con, ls.url, project_id, task_id, record_id, "superseded", reason, replaced_by)
    task = ls.task(task_id)
    if task is None:
        return
    data = dict(task.data or {})
    data["review_state"] = "superseded"
    data["review_feedback"] = (f"SUPERSEDED by task {replaced_by} ({reason}). Annotations here no longer count "
                               f"for the current version: annotate task {replaced_by} instead.")
    if "title" in data and not str(data["title"]).startswith("[superseded]"):
        data["title"] = f"[superseded by task {replaced_by}] {data['title']}"
    meta = dict(task.meta or {})
    meta.update(review_state="superseded", superseded_by=replaced_by)
    ls.set_task_data(task_id, data, meta)
    try:  # closed in the labeling queue: Label Studio skips labeled tasks
        ls.call(f"closing task {task_id}", ls.sdk.tasks.update, id=str(task_id), is_labeled=True)
    except Exception as exc:  # noqa: BLE001 - the mark above is what matters; closing is a convenience
        log.info("could not close task %s in the labeling queue: %s", task_id, exc)


def has_annotations(ls: LabelStudio, task_id: int) -> bool:
    task = ls.task(task_id)
    if task is None:
        return False
    return bool((getattr(task, "total_annotations", 0) or 0) + (getattr(task, "cancelled_annotations", 0) or 0))


def forget_deleted(store: Store, url: str, project_id: int, record_ids: set[str]) -> None:
    """``--restore``: the deleted marks of records that were pushed again."""
    if not record_ids:
        return
    store.con.execute("CREATE TEMP TABLE IF NOT EXISTS _review_restore (id VARCHAR)")
    store.con.execute("DELETE FROM _review_restore")
    insert_rows(store.con, "_review_restore", [("id", "VARCHAR")], [(r,) for r in sorted(record_ids)])
    store.con.execute("DELETE FROM review_retired_tasks WHERE url = ? AND project_id = ? AND state = 'deleted' "
                      "AND record_id IN (SELECT id FROM _review_restore)", [url, project_id])


def parent_links(store: Store, live: dict[str, tuple[int, str, str | None]]) -> dict[str, dict[str, Any]]:
    """record id -> {record_id, task_id, revision} for records that revise another record: the nearest
    ancestor with a live task here (task id None when no ancestor has one)."""
    parent_of: dict[str, tuple[str, int]] = {
        rid: (pid, int(rev)) for rid, pid, rev in store.con.execute(
            "SELECT id, parent_id, revision FROM records WHERE parent_id IS NOT NULL").fetchall()}
    out: dict[str, dict[str, Any]] = {}
    for rid, (pid, rev) in parent_of.items():
        link: dict[str, Any] = {"record_id": pid, "task_id": None, "revision": rev}
        current, steps = pid, 0
        while steps < 100:
            if current in live:
                link = {"record_id": current, "task_id": live[current][0], "revision": rev}
                break
            if current not in parent_of:
                break
            current, steps = parent_of[current][0], steps + 1
        out[rid] = link
    return out


def stale_tasks(store: Store, url: str, project_id: int) -> dict[int, str]:
    """task id -> why annotations on it do not count: superseded tasks whose record has a newer task here."""
    return {int(tid): f"made on an older version ({reason}); task {by} replaces it"
            for tid, reason, by in store.con.execute(
                "SELECT x.task_id, x.reason, x.replaced_by FROM review_retired_tasks x JOIN review_tasks t "
                "ON t.url = x.url AND t.project_id = x.project_id AND t.record_id = x.record_id "
                "WHERE x.url = ? AND x.project_id = ? AND x.state = 'superseded' AND t.task_id <> x.task_id",
                [url, project_id]).fetchall()}
