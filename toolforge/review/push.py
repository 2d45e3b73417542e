"""``toolforge review push``: records -> Label Studio tasks, idempotently.

The server is the truth about which tasks exist: when the store's task map and
the project's task count disagree (a push that died half-way, tasks imported
by hand), the map is rebuilt from the server before anything is imported, so a
re-run never duplicates and never misses a task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from toolforge.errors import UsageError
from toolforge.record import Record
from toolforge.review.bulk import insert_rows
from toolforge.review.client import DEFAULT_PROJECT, LabelStudio
from toolforge.review.config import check_config, config_sha, load_config
from toolforge.review.tasks import build_task, task_record_id
from toolforge.store import Selection
from toolforge.store.db import Store

log = logging.getLogger(__name__)


TASK_COLUMNS = (("url", "VARCHAR"), ("project_id", "INTEGER"), ("record_id", "VARCHAR"), ("task_id", "INTEGER"),
                ("data_sha", "VARCHAR"), ("version_sha", "VARCHAR"), ("parent_record_id", "VARCHAR"))


@dataclass
class PushResult:
    url: str
    project_id: int
    project_title: str
    config_kind: str
    selected: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    adopted: int = 0               # tasks found on the server that the store did not know about
    server_duplicates: int = 0     # extra tasks for one record found on the server (left alone)
    with_audio: int = 0
    revisions: int = 0             # tasks for records that revise a record pushed before (marked as such)
    superseded: int = 0            # old tasks marked superseded by a new one (audio or content changed)
    deleted_on_server: int = 0     # tasks found deleted on the server during this push
    deleted_skipped: int = 0       # records not pushed because their task was deleted (see --restore)
    restored: int = 0
    overlap: int | None = None
    settings_changed: list[str] = field(default_factory=list)
    run_id: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ProjectRef:
    id: int
    title: str
    kind: str
    config: str


def default_selection() -> Selection:
    """Validated, non-duplicate, latest revision; push also leaves out records already reviewed."""
    return Selection(status="valid")


def select_records(store: Store, selection: Selection | None, *, unreviewed_only: bool) -> list[Record]:
    """The records push would send (default selection, minus reviewed ones unless asked)."""
    reviewed = _reviewed(store) if unreviewed_only else set()
    return [r for r in store.iter_records(selection or default_selection()) if r.id not in reviewed]


def files_root_for(store: Store, files_root: Path | None) -> Path:
    """The server's LOCAL_FILES_DOCUMENT_ROOT: given, or the store's folder (what `review serve` uses)."""
    from toolforge.review.server import store_audio_root

    return Path(files_root).resolve() if files_root else store_audio_root(store.path).resolve().parent


def audio_for(store: Store, record_ids: list[str], files_root: Path | None) -> dict[str, dict[str, Any]]:
    """Per record: the player's URL under the server's local-files root and each spoken turn's timing."""
    from toolforge.review.audio import review_audio

    return review_audio(store, record_ids, files_root_for(store, files_root))


def open_project(ls: LabelStudio, *, title: str | None, project_id: int | None, kind: str,
                 label_config: Path | None, create: bool = True) -> ProjectRef:
    if project_id is not None:
        proj = ls.get_project(project_id)
        config = proj.label_config or ""
        check_config(config, source=f"project {project_id}'s labeling config")
        return ProjectRef(proj.id, proj.title or "", _kind_of(config), config)
    title = title or DEFAULT_PROJECT
    proj = ls.find_project(title)
    if proj is not None:
        config = proj.label_config or ""
        check_config(config, source=f"project {proj.id} ({title})'s labeling config")
        return ProjectRef(proj.id, title, _kind_of(config), config)
    if not create:
        raise UsageError(f"Label Studio at {ls.url} has no project titled {title!r}",
                         hint="push records first (`toolforge review push`), or pass --project-id")
    config = load_config(kind, label_config)  # checked locally before the server sees it
    made = ls.create_project(title, config)
    return ProjectRef(made.id, title, _kind_of(config), config)


def _kind_of(config: str) -> str:
    return "audio" if "<Audio" in config else "text"


def server_tasks(ls: LabelStudio, project_id: int) -> dict[int, str]:
    """task id -> record id for every toolforge task on the server."""
    out: dict[int, str] = {}
    for task in ls.export(project_id, all_tasks=True):
        rid, _problem = task_record_id(task)
        if rid is not None:
            out[int(task["id"])] = rid
    return out


def server_task_map(ls: LabelStudio, project_id: int) -> tuple[dict[str, tuple[int, str]], int]:
    """record id -> (task id, data sha) from the server; and how many extra tasks share a record."""
    found: dict[str, tuple[int, str]] = {}
    dups = 0
    for task in sorted(ls.export(project_id, all_tasks=True), key=lambda t: t["id"]):
        rid, _problem = task_record_id(task)
        if rid is None:
            continue
        if rid in found:
            dups += 1
            continue
        found[rid] = (int(task["id"]), str((task.get("meta") or {}).get("data_sha", "")))
    return found, dups


def push(store: Store, ls: LabelStudio, *, selection: Selection | None = None, unreviewed_only: bool = True,
         project_title: str | None = None, project_id: int | None = None, kind: str = "auto",
         label_config: Path | None = None, files_root: Path | None = None, chunk_size: int = 1000,
         on_chunk: Callable[[int], None] | None = None, restore: bool = False,
         overlap: int | None = None) -> PushResult:
    """Import the selected records as tasks (new ones); bring changed tasks up to date.

    A task whose record changed only in how it is shown is updated in place. A task whose version
    changed (new audio) is updated in place while nobody has annotated it; once annotated, a new task
    replaces it and the old one is marked superseded (its annotations no longer count). A record that
    revises one with a task here says so and links that task, which is marked superseded. A task the
    lead deleted on the server is not re-created unless ``restore``.
    """
    if chunk_size < 1:
        raise UsageError("--chunk-size must be at least 1")
    if overlap is not None and overlap < 1:
        raise UsageError("--overlap must be at least 1")
    selection = selection or default_selection()
    reviewed = _reviewed(store) if unreviewed_only else set()
    selected = store.select_ids(selection)
    ids = [i for i in selected if i not in reviewed]
    audio = audio_for(store, ids, files_root)
    want_kind = kind if kind != "auto" else ("audio" if audio else "text")
    proj = open_project(ls, title=project_title, project_id=project_id, kind=want_kind, label_config=label_config)
    res = PushResult(ls.url, proj.id, proj.title, proj.kind, selected=len(ids))
    settings = ls.configure_project(ls.get_project(proj.id), overlap=overlap)
    res.overlap = overlap
    res.settings_changed = sorted(settings)
    if audio and proj.kind != "audio":
        res.warnings.append(f"{len(audio)} records have audio but project {proj.id} has a text-only config; "
                            "push to a new --project to review them with audio")
    if proj.kind == "audio":
        from toolforge.review.server import store_audio_root

        audio_dir = store_audio_root(store.path).resolve()
        root = files_root_for(store, files_root)
        if not audio_dir.is_relative_to(root) or audio_dir == root:
            raise UsageError(
                f"the audio folder {audio_dir} must be inside the server's local-files root {root} (not equal to it)",
                hint="pass --files-root with the LOCAL_FILES_DOCUMENT_ROOT of the server (`toolforge review serve` "
                     "uses the store's folder)",
            )
        ls.ensure_local_storage(proj.id, str(audio_dir))
    run_id = store.create_run("review", name=f"push {proj.title}", config={
        "action": "push", "url": ls.url, "project_id": proj.id, "selected": len(ids)})
    res.run_id = run_id
    try:
        _push(store, ls, proj, res, selection, reviewed, selected, audio, files_root, chunk_size, on_chunk, restore)
    except BaseException:
        store.set_run_status(run_id, "failed")
        raise
    store.set_run_status(run_id, "done")
    return res


def _push(store: Store, ls: LabelStudio, proj: ProjectRef, res: PushResult, selection: Selection,
          reviewed: set[str], selected: list[str], audio: dict[str, dict[str, Any]], files_root: Path | None,
          chunk_size: int, on_chunk: Callable[[int], None] | None, restore: bool) -> None:
    from toolforge.review import versions

    con = store.con
    con.execute(
        "INSERT INTO review_projects (url, project_id, title, config_kind, config_sha) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (url, project_id) DO UPDATE SET title = excluded.title, config_kind = excluded.config_kind, "
        "config_sha = excluded.config_sha",
        [ls.url, proj.id, proj.title, proj.kind, config_sha(proj.config)],
    )
    state = versions.load(store, ls.url, proj.id)
    if ls.task_count(proj.id) != state.expected_on_server():
        sync = versions.sync_with_server(store, ls, proj.id, state)
        res.adopted, res.server_duplicates, res.deleted_on_server = sync.adopted, sync.duplicates, sync.deleted
        if res.adopted or res.server_duplicates:
            log.warning("project %s: adopted %d tasks already on the server, %d duplicate tasks left alone",
                        proj.id, res.adopted, res.server_duplicates)
        if sync.deleted:
            res.warnings.append(f"{sync.deleted} task(s) were deleted on the server: their records are not pushed "
                                "again (pass --restore to re-create them)")
    known = state.live
    # Reviewed records that already have a task here are checked too: new audio must not keep old verdicts.
    recheck = [i for i in selected if i in reviewed and i in known]
    if recheck:
        audio.update(audio_for(store, recheck, files_root))
    wanted = set(selected) - (reviewed - set(recheck))
    parents = versions.parent_links(store, known)

    pending: tuple[Future[list[int]], list[tuple[str, dict[str, Any]]]] | None = None
    replaces: dict[str, tuple[int, str]] = {}     # record id -> (old task id, why) for tasks a new one replaces

    def land(p: tuple[Future[list[int]], list[tuple[str, dict[str, Any]]]]) -> None:
        future, chunk = p
        task_ids = future.result()
        with store.transaction() as tx:
            insert_rows(tx, "review_tasks", TASK_COLUMNS,
                        [(ls.url, proj.id, rid, tid, t["meta"]["data_sha"], t["meta"]["version_sha"],
                          t["meta"].get("revision_of"))
                         for (rid, t), tid in zip(chunk, task_ids, strict=True)],
                        on_conflict="ON CONFLICT (url, project_id, record_id) DO UPDATE SET "
                                    "task_id = excluded.task_id, data_sha = excluded.data_sha, "
                                    "version_sha = excluded.version_sha, parent_record_id = excluded.parent_record_id, "
                                    "pushed_at = now()::TIMESTAMP")
        for (rid, _t), tid in zip(chunk, task_ids, strict=True):
            if rid in replaces:
                old, why = replaces.pop(rid)
                versions.retire(store, ls, proj.id, old, rid, why, replaced_by=tid)
                res.superseded += 1
        res.imported += len(chunk)
        if on_chunk is not None:
            on_chunk(res.imported)

    new: list[tuple[str, dict[str, Any]]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-import") as pool:
        try:
            for rec in store.iter_records(selection):
                if rec.id not in wanted:
                    continue
                assert rec.id is not None
                if rec.id in state.deleted and not restore:
                    res.deleted_skipped += 1
                    continue
                link = parents.get(rec.id)
                task = build_task(rec, kind=proj.kind, audio=audio.get(rec.id) if proj.kind == "audio" else None,
                                  parent=link)
                res.with_audio += bool(proj.kind == "audio" and rec.id in audio)
                if link:
                    res.revisions += rec.id not in known
                sha, version = task["meta"]["data_sha"], task["meta"]["version_sha"]
                if rec.id not in known:
                    if link and link.get("task_id"):
                        replaces[rec.id] = (int(link["task_id"]), f"revised: record {rec.id} replaces "
                                                                  f"{link['record_id']}")
                    if rec.id in state.deleted:
                        res.restored += 1
                    new.append((rec.id, task))
                else:
                    tid, old_sha, old_version = known[rec.id]
                    if old_version and old_version != version and versions.has_annotations(ls, tid):
                        replaces[rec.id] = (tid, "audio changed after it was annotated")
                        new.append((rec.id, task))
                    elif old_sha != sha:
                        ls.update_task(tid, task)
                        con.execute(
                            "UPDATE review_tasks SET data_sha = ?, version_sha = ?, pushed_at = now()::TIMESTAMP "
                            "WHERE url = ? AND project_id = ? AND record_id = ?", [sha, version, ls.url, proj.id, rec.id])
                        res.updated += 1
                    else:
                        res.unchanged += 1
                if len(new) >= chunk_size:
                    if pending is not None:
                        land(pending)
                    pending = (pool.submit(ls.import_tasks, proj.id, [t for _, t in new]), new)
                    new = []
            if pending is not None:
                land(pending)
                pending = None
            if new:
                land((pool.submit(ls.import_tasks, proj.id, [t for _, t in new]), new))
        finally:
            if pending is not None and not pending[0].done():
                pending[0].cancel()
    if restore:
        versions.forget_deleted(store, ls.url, proj.id, {rid for rid in state.deleted if rid in wanted})


def _reviewed(store: Store) -> set[str]:
    return {r[0] for r in store.con.execute("SELECT record_id FROM review_verdicts").fetchall()}
