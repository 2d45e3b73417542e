"""How a record's verdict is reached from its annotations (pure, no store, no network).

1. A ground-truth annotation (marked in Label Studio, or made by a ``--lead``)
   settles the record: the latest one's verdict wins, whatever the others said.
2. Otherwise the majority; a tie goes to the most cautious tied choice
   (reject > needs_fix > accept).
3. An edit is taken from the most recent annotation that agrees with the
   verdict (a ground-truth one first); it becomes a revision of the record.
4. A ``needs_fix`` settled by a valid fix: the revision is accepted (it is the
   fixed record) unless some annotator rejected the record; the original stays
   ``needs_fix``.
5. An annotation that agrees with the verdict but whose edit is invalid holds
   the record back: it does not count as accepted (verdict ``needs_fix``,
   ``pending``) until the annotator corrects the edit or a lead settles it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from toolforge.review.edits import resolve


class Vote(Protocol):
    annotation_id: int
    annotator: str
    annotated_at: datetime | None
    ground_truth: bool
    edit_obj: Any
    edit_status: str
    edit_reason: str | None

    @property
    def choice(self) -> str | None: ...


@dataclass
class Outcome:
    verdict: str
    basis: str                        # majority, tie, ground_truth, invalid_edit
    n: int                            # annotations the verdict rests on
    detail: str | None = None
    pending: bool = False
    winner: Any = None                # the vote whose edit becomes a revision
    revision_verdict: str | None = None
    revision_basis: str | None = None
    not_applied: dict[int, str] = field(default_factory=dict)   # annotation id -> why its edit was not used


def _latest(votes: list[Any]) -> Any:
    return max(votes, key=lambda r: (r.annotated_at or datetime.min, r.annotation_id))


def decide(votes: list[Any], other_choices: list[str] | None = None) -> Outcome | None:
    """The outcome for one record from its counted votes (and choices stored from other projects)."""
    other = list(other_choices or [])
    counted = [v for v in votes if v.choice]
    if not counted and not other:
        return None
    all_choices = [v.choice for v in counted] + other
    gt = [v for v in counted if v.ground_truth]
    if gt:
        lead = _latest(gt)
        out = Outcome(lead.choice, "ground_truth", len(all_choices),
                      detail=f"settled by {lead.annotator}'s ground-truth annotation {lead.annotation_id}")
        pool = [v for v in counted if v.choice == out.verdict]
        blocking = [lead] if lead.edit_status == "invalid" else []
    else:
        verdict = resolve(all_choices)
        if verdict is None:
            return None
        top = max(all_choices.count(c) for c in set(all_choices))
        tie = sum(all_choices.count(c) == top for c in set(all_choices)) > 1
        out = Outcome(verdict, "tie" if tie else "majority", len(all_choices))
        if tie:
            out.detail = "tie between " + " and ".join(sorted({c for c in all_choices if all_choices.count(c) == top}))
        pool = [v for v in counted if v.choice == verdict]
        blocking = [v for v in pool if v.edit_status == "invalid"] if verdict != "reject" else []
    edited = [v for v in counted if v.edit_obj]
    if out.verdict != "reject" and blocking:
        bad = _latest(blocking)
        out.basis, out.pending = "invalid_edit", True
        out.detail = (f"{out.verdict} by {bad.annotator} (annotation {bad.annotation_id}) came with an invalid edit: "
                      f"{bad.edit_reason}; fix the boxes and update the annotation (or a lead settles it)")
        out.verdict = "needs_fix"
        for v in edited:
            out.not_applied[v.annotation_id] = f"held back: annotation {bad.annotation_id}'s edit is invalid"
        return out
    if out.verdict != "reject":
        agreeing = [v for v in pool if v.edit_obj]
        if agreeing:
            out.winner = _latest([v for v in agreeing if v.ground_truth] or agreeing)
    for v in edited:
        if v is out.winner:
            continue
        out.not_applied[v.annotation_id] = (
            "the record was rejected" if out.verdict == "reject" else
            f"the resolved verdict is {out.verdict}" if v.choice != out.verdict else
            f"a later edit (annotation {out.winner.annotation_id if out.winner else '?'}) was applied")
    if out.winner is not None:
        if out.verdict == "accept":
            out.revision_verdict, out.revision_basis = "accept", out.basis
        elif "reject" in all_choices and out.basis != "ground_truth":
            out.revision_verdict, out.revision_basis = "needs_fix", "fixed"
        else:
            out.revision_verdict, out.revision_basis = "accept", "fixed"
    return out
