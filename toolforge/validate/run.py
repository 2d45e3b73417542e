"""Validation over a store or a JSON Lines file, with a summary of issue counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolforge.errors import UsageError
from toolforge.io.safejson import loads_stored  # NaN/Infinity: reported, not judged
from toolforge.validate.issues import Issue
from toolforge.validate.record_checks import RecordValidator

STAGES = ("schema", "execution", "judge")


@dataclass
class Summary:
    """What a validation pass found."""

    stage: str
    records: int = 0
    ok: int = 0
    failed: int = 0
    warnings: int = 0
    codes: Counter[str] = field(default_factory=Counter)

    def add(self, issues: list[Issue]) -> None:
        self.records += 1
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            self.failed += 1
        else:
            self.ok += 1
        self.warnings += len(issues) - len(errors)
        self.codes.update(i.code for i in issues)

    @property
    def n_issues(self) -> int:
        return sum(self.codes.values())

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "records": self.records, "ok": self.ok, "failed": self.failed,
                "warnings": self.warnings, "issues": self.n_issues, "codes": dict(sorted(self.codes.items()))}


@dataclass
class LineResult:
    """The result for one line of a JSON Lines file."""

    line: int
    record_id: str | None
    issues: list[Issue]

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.record_id, "ok": not any(i.severity == "error" for i in self.issues),
                "issues": [i.to_dict() for i in self.issues]}


def content_id(value: Any) -> str | None:
    """The content id of a decoded line when it forms a Record (its stated ``id`` aside), else None."""
    from pydantic import ValidationError

    from toolforge.record import Record

    try:
        return Record.model_validate({k: v for k, v in value.items() if k != "id"}).id
    except (ValidationError, TypeError, ValueError):
        return None


def _record_id(value: Any) -> str | None:
    """The content id of a line when it forms a Record, else the id it states (or None)."""
    rid = content_id(value)
    if rid is None:
        rid = value.get("id") if isinstance(value, dict) else None
    return rid if isinstance(rid, str) else None


def validate_file(path: str | Path, *, check_scenario: bool = True, with_ids: bool = True,
                  validator: RecordValidator | None = None) -> Iterator[LineResult]:
    """Validate every line of a JSON Lines file (``-`` for stdin); no store needed.

    A line that is not JSON gets ``json_invalid``, a line that is not a
    record ``record_invalid``; nothing raises past a bad line.
    """
    from toolforge.io.jsonl import read_jsonl

    v = validator or RecordValidator(check_scenario=check_scenario)
    for line in read_jsonl(path):
        if line.error is not None:
            yield LineResult(line.number, None, [Issue("json_invalid", "$", f"line {line.number}: {line.error}")])
            continue
        issues = v.validate(line.value, check_scenario=check_scenario)
        rid = _record_id(line.value) if with_ids and isinstance(line.value, dict) else None
        yield LineResult(line.number, rid, issues)


@dataclass
class Unreadable:
    """A stored row whose JSON cannot be read (written by an older version without the limits)."""

    reason: str


def _unreadable_reason(exc: BaseException) -> str:
    from toolforge.io.safejson import unreadable

    return unreadable(exc)


def checked(check: Any, rec: Any) -> list[Issue]:
    """``check(rec)`` behind the boundary guard: a record that cannot be read or is too deep to
    check gets a ``json_invalid`` issue naming why, and validation goes on with the rest."""
    if isinstance(rec, Unreadable):
        return [Issue("json_invalid", "$", rec.reason)]
    try:
        return check(rec)  # type: ignore[no-any-return]
    except (RecursionError, MemoryError) as exc:
        return [Issue("json_invalid", "$", _unreadable_reason(exc))]


def iter_plain(store: Any, selection: Any = None, *,
               batch_size: int = 2000) -> Iterator[tuple[str, dict[str, Any] | Unreadable]]:
    """``(id, record dict)`` for the selected records, decoded straight from the stored JSON.

    The schema stage judges plain dicts, so no :class:`~toolforge.record.Record` model is
    built: the stored columns are the record's ``to_dict()`` form already. A run offers
    the same few tool sets again and again, so each distinct ``tools`` text is decoded once
    (the validator does not change what it reads).
    """
    tools_cache: dict[str, Any] = {}
    for chunk in iter_raw(store, selection, batch_size=batch_size):
        for row in chunk:
            yield row[0], decode_row(row, tools_cache)


def iter_raw(store: Any, selection: Any = None, *, batch_size: int = 2000) -> Iterator[list[tuple[Any, ...]]]:
    """The selected records' stored columns (``PLAIN_COLUMNS``), undecoded, ``batch_size`` rows at a time,
    oldest first: what :func:`decode_row` turns into record dicts (here, or in a worker process)."""
    from toolforge.store.select import Selection, selection_sql

    where, params = selection_sql(selection or Selection(), store)
    cur = store.con.cursor()
    try:
        cur.execute(f"SELECT {PLAIN_COLUMNS} FROM records r WHERE {where} ORDER BY r.created_at, r.id", params)
        while True:
            chunk = cur.fetchmany(batch_size)
            if not chunk:
                break
            yield chunk
    finally:
        cur.close()


PLAIN_COLUMNS = "r.id, r.scenario, r.tools, r.messages, r.meta"  # what decode_row reads, in this order


def decode_row(row: tuple[Any, ...], tools_cache: dict[str, Any]) -> dict[str, Any] | Unreadable:
    """One stored row (``PLAIN_COLUMNS``) as the record dict the schema stage judges, or :class:`Unreadable`.

    A run offers the same few tool sets again and again, so each distinct ``tools`` text is decoded once
    per ``tools_cache`` (the validator does not change what it reads)."""
    rid, scenario, tools, messages, meta = row
    loads = loads_stored
    try:
        t = tools_cache.get(tools)
        if t is None:
            if len(tools_cache) > 4096:
                tools_cache.clear()
            t = tools_cache[tools] = loads(tools)
        d: dict[str, Any] = {"id": rid}
        if scenario is not None:
            d["scenario"] = scenario
        d["tools"] = t
        d["messages"] = loads(messages)
        d["meta"] = loads(meta)
    except (RecursionError, MemoryError, ValueError) as exc:  # one unreadable row: report it, go on
        return Unreadable(_unreadable_reason(exc))
    return d


def insert_results(con: Any, stage: str, results: list[tuple[str, list[Any]]]) -> None:
    """Replace validation results (``[(record_id, issues)]``) of ``stage`` on an open connection, inside the
    caller's transaction (generation stores the checks it already ran with the records it writes)."""
    from toolforge.store.bulk import insert_rows
    from toolforge.store.db import ISSUE_COLUMNS, VALIDATION_COLUMNS

    if not results:
        return
    ids = [rid for rid, _ in results]
    con.execute("DELETE FROM issues WHERE stage = ? AND record_id IN (SELECT unnest(?::VARCHAR[]))", [stage, ids])
    con.execute("DELETE FROM validations WHERE stage = ? AND record_id IN (SELECT unnest(?::VARCHAR[]))",
                [stage, ids])
    issue_rows, val_rows = [], []
    for rid, issues in results:
        n_err = 0
        for iss in issues:
            sev = getattr(iss, "severity", "error")
            n_err += sev == "error"
            issue_rows.append((rid, stage, iss.code, iss.path, iss.message, sev))
        val_rows.append((rid, stage, n_err == 0, len(issues)))
    insert_rows(con, "issues", ISSUE_COLUMNS, issue_rows)
    insert_rows(con, "validations", VALIDATION_COLUMNS, val_rows)


def _schema_store(store: Any, selection: Any, summary: Summary, *, check_scenario: bool, check_grounding: bool,
                  batch_size: int, results: list[tuple[str, list[Issue]]] | None, workers: int) -> Summary:
    """The schema stage over a store: stored rows in chunks, judged here or in worker processes, results
    written in order, ``batch_size`` records per write."""
    from toolforge.validate.parallel import CHUNK, judge_rows, resolve_workers, run_chunks

    batch: list[tuple[str, list[Issue]]] = []
    for judged in run_chunks(judge_rows, iter_raw(store, selection, batch_size=CHUNK), workers=resolve_workers(workers),
                             check_scenario=check_scenario, check_grounding=check_grounding):
        for rid, issues in judged:
            summary.add(issues)
            if results is not None and issues:
                results.append((rid, issues))
        batch.extend(judged)
        if len(batch) >= batch_size:
            store.replace_issues("schema", batch)
            batch = []
    if batch:
        store.replace_issues("schema", batch)
    return summary


def validate_store(store: Any, selection: Any = None, stage: str = "schema", *, check_scenario: bool = True,
                   check_grounding: bool = True, batch_size: int = 2000, results: list[tuple[str, list[Issue]]] | None = None,
                   workers: int = 1, **options: Any) -> Summary:
    """Validate the selected records of a store and write results with ``store.replace_issues``.

    ``stage`` is ``schema`` (structure, arguments, scenario), ``execution``
    (runs safe registered tools; see :mod:`toolforge.validate.execute`) or
    ``judge`` (needs ``teacher=`` a spec or a Teacher; see
    :mod:`toolforge.validate.judge`). When ``results`` is a list, each
    ``(record_id, issues)`` is appended to it as well. ``workers`` (schema
    stage; 0: one per core) judges a large selection in worker processes
    (:mod:`toolforge.validate.parallel`); what is written is the same.
    """
    if stage not in STAGES:
        raise UsageError(f"unknown validation stage {stage!r}", hint=f"choose one of: {', '.join(STAGES)}")
    if store.read_only:
        raise UsageError("validation writes results: open the store for writing")
    summary = Summary(stage)
    if stage == "judge":
        from toolforge.validate.judge import judge_store

        return judge_store(store, selection, results=results, **options)
    if stage == "execution":
        from toolforge.validate.execute import ExecutionChecker

        checker: Any = ExecutionChecker(**options)
        check = checker.check
    else:
        return _schema_store(store, selection, summary, check_scenario=check_scenario,
                             check_grounding=check_grounding, batch_size=batch_size, results=results, workers=workers)

    rows = ((r.id, r) for r in store.iter_records(selection))
    batch: list[tuple[str, list[Issue]]] = []
    try:
        for rid, rec in rows:
            issues = checked(check, rec)
            summary.add(issues)
            batch.append((rid, issues))
            if results is not None and issues:
                results.append((rid, issues))
            if len(batch) >= batch_size:
                store.replace_issues(stage, batch)
                batch = []
        if batch:
            store.replace_issues(stage, batch)
    finally:
        if stage == "execution":
            checker.close()
    return summary
