"""Which records a stage works on.

Every stage takes a :class:`Selection`. The defaults are what later stages
want: latest revision only, duplicates (and contaminated records) skipped.
``status`` values:

- ``any``: everything
- ``valid`` / ``invalid`` / ``unvalidated``: by stored validation results
- ``accepted`` / ``rejected`` / ``needs_fix`` / ``reviewed`` / ``unreviewed``: by review verdict
- ``curated``: accepted records when the store holds any review verdict, else valid records
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from toolforge.errors import UsageError
from toolforge.record import SCENARIOS

if TYPE_CHECKING:
    from toolforge.store.db import Store

Status = Literal[
    "any", "valid", "invalid", "unvalidated", "accepted", "rejected", "needs_fix", "reviewed",
    "unreviewed", "curated",
]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]

_VALID = ("EXISTS (SELECT 1 FROM validations v WHERE v.record_id = r.id) AND NOT EXISTS "
          "(SELECT 1 FROM validations v WHERE v.record_id = r.id AND NOT v.ok)")
_INVALID = "EXISTS (SELECT 1 FROM validations v WHERE v.record_id = r.id AND NOT v.ok)"
_UNVALIDATED = "NOT EXISTS (SELECT 1 FROM validations v WHERE v.record_id = r.id)"


def _verdict(v: str) -> str:
    return f"EXISTS (SELECT 1 FROM review_verdicts rv WHERE rv.record_id = r.id AND rv.verdict = '{v}')"


_REVIEWED = "EXISTS (SELECT 1 FROM review_verdicts rv WHERE rv.record_id = r.id)"


class Selection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status = "any"
    scenarios: list[str] | None = None
    include_duplicates: bool = False
    latest_revision: bool = True
    run_id: str | None = None
    ids: list[str] | None = None
    limit: int | None = None

    @field_validator("scenarios")
    @classmethod
    def _known(cls, v: list[str] | None) -> list[str] | None:
        for s in v or []:
            if s not in SCENARIOS and s not in ("session", "multi_turn"):
                raise ValueError(f"unknown scenario {s!r} (choose from {', '.join(SCENARIOS)}, session)")
        return v


def make_selection(**kwargs: Any) -> Selection:
    """Build a Selection from CLI values, turning validation errors into a UsageError."""
    from pydantic import ValidationError

    try:
        return Selection(**{k: v for k, v in kwargs.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None


def selection_sql(sel: Selection, store: Store) -> tuple[str, list[Any]]:
    """A WHERE clause over ``records r`` and its parameters."""
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    status = sel.status
    if status == "curated":
        row = store.con.execute("SELECT count(*) FROM review_verdicts").fetchone()
        status = "accepted" if row and row[0] else "valid"
    clauses.append({
        "any": "TRUE",
        "valid": _VALID,
        "invalid": _INVALID,
        "unvalidated": _UNVALIDATED,
        "accepted": _verdict("accept"),
        "rejected": _verdict("reject"),
        "needs_fix": _verdict("needs_fix"),
        "reviewed": _REVIEWED,
        "unreviewed": "NOT " + _REVIEWED,
    }[status])
    if sel.scenarios:
        # multi-turn sessions have no scenario (meta.mode 'session'): selected as 'session' (or 'multi_turn')
        named = [s for s in sel.scenarios if s not in ("session", "multi_turn")]
        either = [f"r.scenario IN ({', '.join('?' for _ in named)})"] if named else []
        if len(named) < len(sel.scenarios):
            either.append("(r.scenario IS NULL AND r.meta->>'mode' = 'session')")
        clauses.append("(" + " OR ".join(either) + ")")
        params.extend(named)
    if not sel.include_duplicates:
        clauses.append("NOT EXISTS (SELECT 1 FROM dedup_marks d WHERE d.record_id = r.id)")
    if sel.latest_revision:
        clauses.append("NOT EXISTS (SELECT 1 FROM records c WHERE c.parent_id = r.id)")
    if sel.run_id:
        clauses.append("r.run_id = ?")
        params.append(sel.run_id)
    if sel.ids is not None:
        if not sel.ids:
            clauses.append("FALSE")
        else:
            clauses.append(f"r.id IN ({', '.join('?' for _ in sel.ids)})")
            params.extend(sel.ids)
    where = " AND ".join(f"({c})" for c in clauses)
    if sel.limit is not None:
        # LIMIT is applied by callers through ORDER BY ... ; keep it simple with a subquery.
        where = (f"r.id IN (SELECT r.id FROM records r WHERE {where} ORDER BY r.created_at, r.id "
                 f"LIMIT {int(sel.limit)})")
        params = params + []
    return where, params
