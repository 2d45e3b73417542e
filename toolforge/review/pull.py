"""``toolforge review pull``: annotations -> verdicts, edits -> new revisions.

Every annotation is kept (one row per annotator per task) and checked against
the project's labeling config. Annotations on a superseded task (made on an
older version of the record) are kept as ``stale`` and do not count. The
verdict per record follows :mod:`toolforge.review.resolution` (ground truth,
majority, ties, fixes, invalid edits). An applied edit becomes a new revision
(``source="review"``, ``parent_id`` = the record it revises); the original is
kept. Nothing is written to the store until everything has been read and
checked; then refused edits and other feedback are written to their tasks.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from toolforge.record import Record
from toolforge.review.bulk import insert_revisions, insert_rows
from toolforge.review.client import LabelStudio
from toolforge.review.config import interface
from toolforge.review.edits import (
    EditError,
    Reading,
    RecordView,
    apply_edit,
    find_edit,
    read_annotation,
)
from toolforge.review.push import open_project
from toolforge.review.tasks import task_record_id
from toolforge.store import Selection
from toolforge.store.db import Store

log = logging.getLogger(__name__)


@dataclass
class PullResult:
    url: str
    project_id: int
    tasks: int = 0
    annotations: int = 0
    skipped: int = 0
    invalid_annotations: int = 0
    unknown_records: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    revisions: int = 0
    run_id: str | None = None
    stale_annotations: int = 0
    pending: int = 0
    ground_truth: int = 0
    feedback_written: int = 0
    invalid_edits: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ANNOTATION_COLUMNS = (
    ("url", "VARCHAR"), ("project_id", "INTEGER"), ("annotation_id", "INTEGER"), ("task_id", "INTEGER"),
    ("record_id", "VARCHAR"), ("annotator", "VARCHAR"), ("annotated_at", "TIMESTAMP"), ("status", "VARCHAR"),
    ("problem", "VARCHAR"), ("choice", "VARCHAR"), ("rating", "INTEGER"), ("notes", "VARCHAR"),
    ("edit_status", "VARCHAR"), ("edit", "JSON"), ("edit_reason", "VARCHAR"), ("revision_id", "VARCHAR"),
)


@dataclass
class _Row:
    annotation_id: int
    task_id: int
    record_id: str
    annotator: str
    annotated_at: datetime | None
    status: str
    problem: str | None = None
    reading: Reading = field(default_factory=Reading)
    edit: dict[str, Any] | None = None
    edit_obj: Any = None
    edit_status: str = "none"
    edit_reason: str | None = None
    revision_id: str | None = None
    ground_truth: bool = False

    @property
    def choice(self) -> str | None:
        return self.reading.choice if self.status == "ok" else None


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


def _annotator(completed_by: Any, users: dict[int, str]) -> str:
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or completed_by.get("username") or completed_by.get("id"))
    if completed_by is None:
        return "unknown"
    return users.get(int(completed_by), f"user {completed_by}")


def load_records(store: Store, ids: list[str]) -> dict[str, RecordView]:
    """Stored records by id, as plain JSON views (one query; records are parsed fully only when edited)."""
    if not ids:
        return {}
    con = store.con
    con.execute("CREATE TEMP TABLE IF NOT EXISTS _review_ids (id VARCHAR)")
    con.execute("DELETE FROM _review_ids")
    insert_rows(con, "_review_ids", [("id", "VARCHAR")], [(i,) for i in ids])
    rows = con.execute("SELECT r.id, r.scenario, r.tools, r.messages, r.meta, r.revision FROM records r "
                       "WHERE r.id IN (SELECT id FROM _review_ids)").fetchall()
    return {rid: RecordView(rid, scenario, json.loads(tools), json.loads(messages), json.loads(meta), int(rev))
            for rid, scenario, tools, messages, meta, rev in rows}


def pull(store: Store, ls: LabelStudio, *, project_title: str | None = None,
         project_id: int | None = None, leads: list[str] | None = None,
         write_feedback: bool = True) -> PullResult:
    """Read the project's annotations into the store; ``leads``: annotators (email or username) whose
    annotations count as ground truth, like those marked ground truth in Label Studio."""
    from toolforge.review import feedback, versions
    from toolforge.review.resolution import decide

    proj = open_project(ls, title=project_title, project_id=project_id, kind="text", label_config=None,
                        create=False)
    li = interface(proj.config)
    users = ls.users()
    tasks = ls.export(proj.id, all_tasks=False)
    res = PullResult(ls.url, proj.id, tasks=len(tasks))
    stale = versions.stale_tasks(store, ls.url, proj.id)
    lead_set = {x.strip().lower() for x in leads or [] if x.strip()}

    task_rids: dict[int, str] = {}
    for task in tasks:
        rid, problem = task_record_id(task)
        if rid is None:
            res.problems.append(problem or "task without record id")
            continue
        task_rids[int(task["id"])] = rid
    records = load_records(store, sorted(set(task_rids.values())))

    rows: list[_Row] = []
    task_data: dict[int, dict[str, Any]] = {}
    for task in tasks:
        tid = int(task["id"])
        rid = task_rids.get(tid)
        if rid is None:
            continue
        record = records.get(rid)
        if record is None:
            res.unknown_records += 1
            res.problems.append(f"task {task['id']}: record {rid} is not in this store")
            continue
        task_data[tid] = task.get("data") or {}
        for ann in task.get("annotations") or []:
            row = _read_one(ann, tid, record, li, users)
            row.ground_truth = bool(ann.get("ground_truth")) or row.annotator.lower() in lead_set
            if tid in stale and row.status != "skipped":
                row.status, row.problem = "stale", stale[tid]
                row.edit_obj, row.edit_status = None, "none" if row.edit_status != "invalid" else "invalid"
            rows.append(row)
    res.annotations = len(rows)
    res.skipped = sum(r.status == "skipped" for r in rows)
    res.invalid_annotations = sum(r.status == "invalid" for r in rows)
    res.stale_annotations = sum(r.status == "stale" for r in rows)
    res.ground_truth = sum(r.ground_truth and r.status == "ok" for r in rows)

    by_record: dict[str, list[_Row]] = {}
    for row in rows:
        by_record.setdefault(row.record_id, []).append(row)
    other = _other_choices(store, ls.url, proj.id, list(by_record))
    children = _review_children(store)
    own = _with_own_annotations(store, ls.url, proj.id) | {rid for rid, g in by_record.items()
                                                            if any(r.choice for r in g)}
    new_records: list[tuple[Record, str, int]] = []   # (revision, parent id, revision number)
    verdicts: dict[str, tuple[str, int]] = {}
    outcomes: dict[str, tuple[str, str, str | None, bool]] = {}    # record -> (verdict, basis, detail, pending)
    unresolved: list[str] = []
    for rid, group in by_record.items():
        outcome = decide(group, other.get(rid, []))
        if outcome is None:
            unresolved.append(rid)
            continue
        verdicts[rid] = (outcome.verdict, outcome.n)
        outcomes[rid] = (outcome.verdict, outcome.basis, outcome.detail, outcome.pending)
        res.pending += outcome.pending
        for r in group:
            if r.annotation_id in outcome.not_applied and r.edit_obj:
                r.edit_status, r.edit_reason = "not_applied", outcome.not_applied[r.annotation_id]
        follow = (outcome.revision_verdict or outcome.verdict, outcome.revision_basis or "inherited")
        winner = outcome.winner
        if winner is not None:
            parent_id, parent_rev = _latest_revision(children, records[rid])
            revised = apply_edit(records[rid], winner.edit_obj, meta={
                "parent_id": rid, "annotation_id": winner.annotation_id, "annotator": winner.annotator,
                "project": f"{ls.url}#{proj.id}", "edit": winner.edit,
                "possibly_stale": list(winner.edit_obj.possibly_stale)})
            winner.edit_status = "applied"
            winner.revision_id = revised.id
            if revised.id != rid and revised.id not in {c for c, _ in _chain(children, rid)}:
                new_records.append((revised, parent_id, parent_rev + 1))
            if revised.id and revised.id not in own:   # judged on its own task: its annotations decide
                verdicts[revised.id] = (follow[0], outcome.n)
                outcomes[revised.id] = (follow[0], follow[1], f"fix of {rid} by {winner.annotator} "
                                        f"(annotation {winner.annotation_id})", False)
        # earlier review revisions of this record follow it unless annotators judged them on their own
        for child, _rev in _chain(children, rid):
            if child not in own and child not in verdicts:
                verdicts[child] = (follow[0] if winner is not None else outcome.verdict, outcome.n)
                outcomes[child] = (verdicts[child][0], "inherited", f"from the review of {rid}", outcome.pending)
    for row in rows:
        if row.edit_status == "invalid":
            res.invalid_edits.append({"record_id": row.record_id, "annotation_id": row.annotation_id,
                                      "annotator": row.annotator, "reason": row.edit_reason,
                                      "task_id": row.task_id})

    # -- write (everything above only read) ------------------------------------------------
    res.revisions = len(new_records)
    run_id = res.run_id = store.create_run("review", name=f"pull {proj.title}", config={
        "action": "pull", "url": ls.url, "project_id": proj.id, "annotations": len(rows)})
    with store.transaction() as con:
        insert_revisions(con, new_records)
        if rows:
            con.execute("CREATE TEMP TABLE IF NOT EXISTS _review_tasks (task_id INTEGER)")
            con.execute("DELETE FROM _review_tasks")
            insert_rows(con, "_review_tasks", [("task_id", "INTEGER")], [(t,) for t in sorted({r.task_id for r in rows})])
            con.execute("DELETE FROM review_annotations WHERE url = ? AND project_id = ? AND task_id IN "
                        "(SELECT task_id FROM _review_tasks)", [ls.url, proj.id])
            insert_rows(con, "review_annotations", ANNOTATION_COLUMNS, [
                (ls.url, proj.id, r.annotation_id, r.task_id, r.record_id, r.annotator, r.annotated_at, r.status,
                 r.problem, r.reading.choice if r.status in ("ok", "stale") else None, r.reading.rating,
                 r.reading.notes, r.edit_status, json.dumps(r.edit) if r.edit else None,
                 r.edit_reason, r.revision_id) for r in rows])
        gone = [rid for rid in unresolved if rid not in other and any(r.status == "stale" for r in by_record[rid])]
        for rid in gone:   # every annotation went stale (or was withdrawn): no verdict until re-annotated
            con.execute("DELETE FROM review_verdicts WHERE record_id = ?", [rid])
            con.execute("DELETE FROM review_outcomes WHERE record_id = ?", [rid])
        insert_rows(con, "review_verdicts", [("record_id", "VARCHAR"), ("verdict", "VARCHAR"),
                                             ("n_annotations", "INTEGER")],
                    [(rid, v, n) for rid, (v, n) in verdicts.items()],
                    on_conflict="ON CONFLICT (record_id) DO UPDATE SET verdict = excluded.verdict, "
                                "n_annotations = excluded.n_annotations, resolved_at = now()::TIMESTAMP")
        insert_rows(con, "review_outcomes", [("record_id", "VARCHAR"), ("verdict", "VARCHAR"), ("basis", "VARCHAR"),
                                             ("detail", "VARCHAR"), ("pending", "BOOLEAN")],
                    [(rid, *o) for rid, o in outcomes.items()],
                    on_conflict="ON CONFLICT (record_id) DO UPDATE SET verdict = excluded.verdict, "
                                "basis = excluded.basis, detail = excluded.detail, pending = excluded.pending, "
                                "resolved_at = now()::TIMESTAMP")
    res.verdicts = dict(Counter(v for rid, (v, _n) in verdicts.items() if rid in by_record))
    _validate_revisions(store, [r.id for r, _, _ in new_records if r.id])
    store.set_run_status(run_id, "done")
    if write_feedback:
        res.feedback_written = feedback.write_pull_feedback(ls, rows, outcomes, task_data, stale)
    return res


def _with_own_annotations(store: Store, url: str, project_id: int) -> set[str]:
    """Records with counted annotations stored from other projects (this project's are re-read now)."""
    return {r[0] for r in store.con.execute(
        "SELECT DISTINCT record_id FROM review_annotations WHERE status = 'ok' AND choice IS NOT NULL "
        "AND NOT (url = ? AND project_id = ?)", [url, project_id]).fetchall()}


def _read_one(ann: dict[str, Any], task_id: int, record: RecordView, li: Any, users: dict[int, str]) -> _Row:
    row = _Row(annotation_id=int(ann["id"]), task_id=task_id, record_id=record.id,
               annotator=_annotator(ann.get("completed_by"), users),
               annotated_at=_when(ann.get("updated_at") or ann.get("created_at")), status="ok")
    if ann.get("was_cancelled"):
        row.status = "skipped"
        return row
    result = ann.get("result") or []
    errors = li.validate_prediction({"result": result}, return_errors=True)
    if errors:
        row.status = "invalid"
        row.problem = "does not match the labeling config: " + "; ".join(errors)[:500]
        return row
    row.reading = read_annotation(result)
    if row.reading.choice is None:
        row.status = "invalid"
        row.problem = "no verdict chosen"
        return row
    try:
        edit = find_edit(record, row.reading)
    except EditError as exc:
        row.edit_status = "invalid"
        row.edit_reason = str(exc)
        return row
    if edit:
        row.edit_obj = edit
        row.edit = edit.to_json()
    return row


def _other_choices(store: Store, url: str, project_id: int, record_ids: list[str]) -> dict[str, list[str]]:
    """Valid choices for these records stored from other projects or servers."""
    if not record_ids:
        return {}
    out: dict[str, list[str]] = {}
    rows = store.con.execute(
        "SELECT record_id, choice FROM review_annotations WHERE status = 'ok' AND choice IS NOT NULL "
        "AND NOT (url = ? AND project_id = ?)", [url, project_id]).fetchall()
    wanted = set(record_ids)
    for rid, choice in rows:
        if rid in wanted:
            out.setdefault(rid, []).append(choice)
    return out


def _review_children(store: Store) -> dict[str, tuple[str, int]]:
    """parent id -> its latest review revision (id, revision number)."""
    out: dict[str, tuple[str, int]] = {}
    for parent, rid, rev in store.con.execute(
            "SELECT parent_id, id, revision FROM records WHERE source = 'review' AND parent_id IS NOT NULL "
            "ORDER BY revision, created_at").fetchall():
        out[parent] = (rid, int(rev))
    return out


def _chain(children: dict[str, tuple[str, int]], record_id: str) -> list[tuple[str, int]]:
    """Review revisions descending from a record, oldest first: [(id, revision)]."""
    out: list[tuple[str, int]] = []
    current = record_id
    while current in children and len(out) < 1000:
        out.append(children[current])
        current = children[current][0]
    return out


def _latest_revision(children: dict[str, tuple[str, int]], record: RecordView) -> tuple[str, int]:
    chain = _chain(children, record.id)
    return chain[-1] if chain else (record.id, record.revision)


def _validate_revisions(store: Store, ids: list[str]) -> None:
    """Run the schema validator on new revisions when the validate module offers it."""
    if not ids:
        return
    try:
        from toolforge.validate import validate_store  # type: ignore[attr-defined]
    except ImportError:
        log.info("toolforge.validate.validate_store not available: %d revisions left unvalidated", len(ids))
        return
    validate_store(store, Selection(ids=ids, latest_revision=False, include_duplicates=True), stage="schema")
