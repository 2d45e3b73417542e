"""Batched writes of a generation run: records and attempt rows in one transaction.

Accepted records and their attempt rows are buffered and written together, so
a crash (even SIGKILL) leaves either a whole batch or nothing: never a record
without its attempts or a partial row. Records already stored (same content
id) are not counted for the run: their attempt is rewritten as ``rejected``
with reason ``duplicate_id`` and the runner asks for a replacement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from toolforge.generate.config import SESSION
from toolforge.record import Record
from toolforge.store.bulk import insert_rows
from toolforge.store.db import RECORD_COLUMNS, Store

ATTEMPT_COLUMNS = (("run_id", "VARCHAR"), ("scenario", "VARCHAR"), ("job", "INTEGER"), ("attempt", "INTEGER"),
                   ("outcome", "VARCHAR"), ("reason", "VARCHAR"), ("detail", "VARCHAR"), ("record_id", "VARCHAR"),
                   ("output", "VARCHAR"), ("latency_s", "DOUBLE"))
OUTPUT_MAX = 4000


@dataclass
class Attempt:
    scenario: str
    job: int
    attempt: int
    outcome: str
    reason: str | None = None
    detail: str | None = None
    record_id: str | None = None
    output: str | None = None
    latency_s: float | None = None


@dataclass
class FlushResult:
    stored: dict[str, int] = field(default_factory=dict)      # scenario -> new records
    duplicates: dict[str, int] = field(default_factory=dict)  # scenario -> records already stored


class RunWriter:
    def __init__(self, store: Store, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.records: list[Record] = []
        self.attempts: list[Attempt] = []
        self._tools: dict[tuple[str, ...], str] = {}
        self.checks: dict[str, list[Any]] = {}  # record id -> the issues validation found (stored as its result)

    def add(self, attempts: list[Attempt], record: Record | None = None, issues: list[Any] | None = None) -> None:
        self.attempts.extend(attempts)
        if record is not None:
            self.records.append(record)
            if issues is not None and record.id is not None:
                self.checks[record.id] = issues

    def _tools_json(self, r: Record) -> str:
        # a run offers the same catalog tools again and again: encode each tool set once
        key = tuple(t.function.name for t in r.tools)
        hit = self._tools.get(key)
        if hit is None:
            hit = self._tools[key] = json.dumps(r.tools_dump(), ensure_ascii=False)
        return hit

    def __len__(self) -> int:
        return len(self.records) + len(self.attempts)

    def take(self) -> tuple[list[Record], list[Attempt]]:
        """Hand over what is buffered (to :meth:`write`, possibly in a worker thread)."""
        batch = (self.records, self.attempts)
        self.records, self.attempts = [], []
        return batch

    def flush(self) -> FlushResult:
        return self.write(self.take())

    def write(self, batch: tuple[list[Record], list[Attempt]]) -> FlushResult:
        """Write one batch in one transaction (the only user of the connection while it runs)."""
        recs, attempts = batch
        res = FlushResult()
        if not recs and not attempts:
            return res
        con = self.store.con
        existing: set[str] = set()
        if recs:
            rows = con.execute("SELECT id FROM records WHERE id IN (SELECT unnest($1))", [[r.id for r in recs]]).fetchall()
            existing = {r[0] for r in rows}
        seen: set[str] = set()
        new: list[Record] = []
        for r in recs:
            assert r.id is not None
            key = r.scenario or SESSION  # a multi-turn session has no single-request scenario
            if r.id in existing or r.id in seen:
                res.duplicates[key] = res.duplicates.get(key, 0) + 1
                for a in attempts:
                    if a.record_id == r.id and a.outcome == "accepted":
                        a.outcome, a.reason, a.detail = "rejected", "duplicate_id", "this record is already stored"
                        break
                continue
            seen.add(r.id)
            new.append(r)
            res.stored[key] = res.stored.get(key, 0) + 1
        checks = [(r.id, self.checks.pop(r.id)) for r in recs if r.id in self.checks]
        with self.store.transaction():
            if checks:  # the validation generation already ran: `stats` counts these records as validated
                from toolforge.validate.run import insert_results

                insert_results(con, "schema", [(rid, iss) for rid, iss in checks if rid in seen])
            if new:
                insert_rows(con, "records", RECORD_COLUMNS, [
                    (r.id, r.scenario, self._tools_json(r), json.dumps(r.messages_dump(), ensure_ascii=False),
                     json.dumps(r.meta, ensure_ascii=False), "generate", self.run_id, None, 0) for r in new])
            if attempts:
                insert_rows(con, "generation_attempts", ATTEMPT_COLUMNS, [
                    (self.run_id, a.scenario, a.job, a.attempt, a.outcome, a.reason, a.detail, a.record_id,
                     a.output[:OUTPUT_MAX] if a.output else None, a.latency_s) for a in attempts])
        return res


def run_counts(store: Store, run_id: str) -> dict[str, int]:
    """Records stored by a run, per scenario (sessions, whose scenario is NULL, under ``"session"``)."""
    rows = store.con.execute("SELECT coalesce(scenario, ?), count(*) FROM records WHERE run_id = ? GROUP BY 1",
                             [SESSION, run_id]).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def next_jobs(store: Store, run_id: str) -> dict[str, int]:
    """Per scenario, the first job index a resumed run has not used yet."""
    rows = store.con.execute("SELECT scenario, max(job) FROM generation_attempts WHERE run_id = ? GROUP BY scenario",
                             [run_id]).fetchall()
    return {r[0]: int(r[1]) + 1 for r in rows}


def run_user_texts(store: Store, run_id: str) -> list[str]:
    """The first user message of each record of a run (for the near-duplicate check on resume)."""
    rows = store.con.execute("SELECT messages FROM records WHERE run_id = ?", [run_id]).fetchall()
    out = []
    for (messages,) in rows:
        for m in json.loads(messages):
            if m.get("role") == "user":
                out.append(m.get("content") or "")
                break
    return out


def failure_counts(store: Store, run_id: str) -> dict[str, int]:
    """Reasons of every non-accepted outcome of a run (rejected, transport, gave_up)."""
    rows = store.con.execute(
        "SELECT reason, count(*) FROM generation_attempts WHERE run_id = ? AND outcome IN ('rejected', 'transport') "
        "GROUP BY reason ORDER BY 2 DESC", [run_id]).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}
