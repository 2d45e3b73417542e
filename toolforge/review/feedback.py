"""Feedback written back to a task, where the annotator and the lead see it.

Two task data fields carry it: ``review_state`` (a short code, a column the
Data Manager can sort and filter on: ``open``, ``ok``, ``check``,
``edit_refused``, ``superseded``) and ``review_feedback`` (the sentence shown
in the task, on the "toolforge check" line). The feedback endpoint writes them
seconds after an annotation is submitted; pull writes them again from what it
resolved (refused edits, edits held back, possibly stale results).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from toolforge.review.edits import EditError, RecordView, find_edit, read_annotation

log = logging.getLogger(__name__)
QUIET_STATES = ("open", "ok", "")


def check_annotation(record: RecordView, result: list[dict[str, Any]], li: Any = None) -> tuple[str, str]:
    """(state, sentence) for one submitted annotation: what pull will make of it."""
    if li is not None:
        errors = li.validate_prediction({"result": result}, return_errors=True)
        if errors:
            return "edit_refused", "not counted: does not match the labeling config: " + "; ".join(errors)[:300]
    reading = read_annotation(result)
    if reading.choice is None:
        return "edit_refused", "not counted: no verdict chosen"
    try:
        edit = find_edit(record, reading)
    except EditError as exc:
        held = " and the record is not accepted until it is corrected" if reading.choice != "reject" else ""
        return "edit_refused", f"{reading.choice}: edit refused ({exc}); it is not applied{held}"
    if not edit:
        return "ok", f"{reading.choice}: valid, no edit"
    what = ", ".join(sorted(edit.to_json().keys() - {"possibly_stale"}))
    if edit.possibly_stale:
        return "check", f"{reading.choice}: edit valid ({what}); check: " + "; ".join(edit.possibly_stale)
    return "ok", f"{reading.choice}: edit valid ({what})"


def task_feedback(rows: Iterable[Any], outcome: tuple[str, str, str | None, bool] | None) -> tuple[str, str]:
    """(state, text) for a task from its pulled annotation rows and its record's outcome."""
    lines: list[str] = []
    state = "ok"
    for r in rows:
        who = f"annotation {r.annotation_id} by {r.annotator}"
        if r.status == "invalid":
            lines.append(f"{who}: not counted: {r.problem}")
            state = "edit_refused"
        elif r.edit_status == "invalid":
            lines.append(f"{who}: edit refused: {r.edit_reason}")
            state = "edit_refused"
        elif r.edit and r.edit.get("possibly_stale") and r.edit_status == "applied":
            lines.append(f"{who}: edit applied; check: " + "; ".join(r.edit["possibly_stale"]))
            if state == "ok":
                state = "check"
    if outcome and outcome[3] and outcome[2]:
        lines.append(f"not accepted yet: {outcome[2]}")
        state = "edit_refused"
    return state, " | ".join(lines)


def write_pull_feedback(ls: Any, rows: list[Any], outcomes: Mapping[str, tuple[str, str, str | None, bool]],
                        task_data: Mapping[int, dict[str, Any]], stale: Mapping[int, str]) -> int:
    """Write each task's feedback where it changed; a task with nothing to say is left alone
    unless it showed a problem before (then it is cleared). Returns how many tasks were written."""
    by_task: dict[int, list[Any]] = {}
    for r in rows:
        by_task.setdefault(r.task_id, []).append(r)
    written = 0
    for tid, group in by_task.items():
        if tid in stale or tid not in task_data:
            continue
        data = task_data[tid]
        state, text = task_feedback(group, outcomes.get(group[0].record_id))
        now_state = str(data.get("review_state") or "")
        if not text and now_state in QUIET_STATES:
            continue
        if not text:
            text = "resolved"
        if now_state == state and str(data.get("review_feedback") or "") == text:
            continue
        try:
            ls.set_task_data(tid, {**data, "review_state": state, "review_feedback": text[:2000]})
            written += 1
        except Exception as exc:  # noqa: BLE001 - feedback is advisory; the store is already written
            log.warning("could not write feedback to task %s: %s", tid, exc)
    return written
