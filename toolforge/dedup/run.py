"""Dedup over the store: clusters per method, one kept representative, the rest marked.

Records are never deleted. A run of a method:

1. takes the scope: latest revisions matching the selection, minus records that
   another method already marked (they are skipped, as by every later stage);
2. finds similar pairs (exact key, MinHash/LSH + Jaccard, or embeddings + cosine);
3. joins pairs into clusters (connected components) and keeps the best member of
   each: an accepted review first, then a validated record, then an unvalidated
   one, then an invalid or rejected one; ties go to the earliest stored;
4. replaces that method's earlier rows for the records in scope with the new
   ones: every member in ``dedup_clusters``, every member but the kept one in the
   core ``dedup_marks`` table (rows of records outside the scope are kept).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from toolforge.canonical import canonical_json, content_hash
from toolforge.dedup.minhash import near_pairs, norm_sql
from toolforge.errors import InputError
from toolforge.store.select import Selection, selection_sql

if TYPE_CHECKING:
    from toolforge.dedup.config import DedupConfig
    from toolforge.store.db import Store

log = logging.getLogger(__name__)

SCOPE = "_tf_dd_scope"

# The text of a record's user turns, joined by spaces (over ``records r``).
USER_TEXT_SQL = ("array_to_string(list_transform(list_filter(json_extract(r.messages, '$[*]'), "
                 "lambda m: m->>'role' = 'user'), lambda m: coalesce(m->>'content', '')), ' ')")
FIRST_USER_SQL = ("coalesce(list_filter(json_extract(r.messages, '$[*]'), "
                  "lambda m: m->>'role' = 'user')[1]->>'content', '')")

# Lower is better: which member of a cluster is kept.
_PRIORITY_SQL = """CASE
  WHEN EXISTS (SELECT 1 FROM review_verdicts rv WHERE rv.record_id = r.id AND rv.verdict = 'accept') THEN 0
  WHEN EXISTS (SELECT 1 FROM review_verdicts rv WHERE rv.record_id = r.id) THEN 4
  WHEN EXISTS (SELECT 1 FROM validations v WHERE v.record_id = r.id AND NOT v.ok) THEN 3
  WHEN EXISTS (SELECT 1 FROM validations v WHERE v.record_id = r.id) THEN 1
  ELSE 2 END"""


@dataclass
class DedupResult:
    method: str
    records: int                      # records in scope
    pairs: int                        # verified similar pairs
    clusters: int                     # clusters of two or more records
    marked: int                       # records marked (duplicates, or contaminated with --against)
    engine: str | None = None
    threshold: float | None = None
    candidates: int | None = None
    against: str | None = None
    reference_items: int | None = None
    run_id: str | None = None
    dry_run: bool = False
    seconds: float = 0.0
    largest: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def build_scope(store: Store, *, method: str, status: str = "any", scenarios: list[str] | None = None,
                skip_marked: bool = True) -> int:
    """Temp table ``_tf_dd_scope(idx, id)``, idx in keep-priority order. Returns its size."""
    sel = Selection(status=status, scenarios=scenarios, include_duplicates=True)  # type: ignore[arg-type]
    where, params = selection_sql(sel, store)
    skip = ""
    if skip_marked:
        skip = ("AND NOT EXISTS (SELECT 1 FROM dedup_marks d WHERE d.record_id = r.id "
                "AND d.method <> 'against' AND d.method <> ?)")
        params = [*params, method]
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS "
        f"SELECT (row_number() OVER (ORDER BY prio, created_at, id) - 1)::INTEGER AS idx, id "
        f"FROM (SELECT r.id, r.created_at, {_PRIORITY_SQL} AS prio FROM records r WHERE {where} {skip})",
        params,
    )
    row = store.con.execute(f"SELECT count(*) FROM {SCOPE}").fetchone()
    return int(row[0]) if row else 0


def call_signature(messages: list[dict[str, Any]]) -> list[list[list[str]]]:
    """The calls of a conversation as name + canonical arguments, per assistant turn
    (order within a turn ignored: parallel calls may come in any order)."""
    turns = []
    for m in messages:
        if m.get("role") == "assistant" and m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                fn = c.get("function", {}) if isinstance(c, dict) else {}
                calls.append([str(fn.get("name", "")), canonical_json(fn.get("arguments", {}))])
            turns.append(sorted(calls))
    return turns


def exact_key(normalised_first_user: str, messages: list[dict[str, Any]]) -> str | None:
    calls = call_signature(messages)
    if not normalised_first_user and not calls:
        return None
    return content_hash({"user": normalised_first_user, "calls": calls})


def exact_pairs(store: Store) -> dict[str, Any]:
    import json

    cur = store.con.execute(
        f"SELECT s.idx, {norm_sql(FIRST_USER_SQL)}, r.messages FROM {SCOPE} s JOIN records r ON r.id = s.id "
        f"ORDER BY s.idx"
    )
    first: dict[str, int] = {}
    a: list[int] = []
    b: list[int] = []
    while batch := cur.fetchmany(10_000):
        for idx, user, messages in batch:
            key = exact_key(user, json.loads(messages))
            if key is None:
                continue
            if key in first:
                a.append(first[key])
                b.append(idx)
            else:
                first[key] = idx
    return {"a": np.asarray(a, dtype=np.int64), "b": np.asarray(b, dtype=np.int64),
            "score": np.ones(len(a), dtype=np.float64), "candidates": len(a)}


def load_scope_docs(store: Store, *, first_only: bool = False) -> None:
    text = FIRST_USER_SQL if first_only else USER_TEXT_SQL
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _tf_dd_docs AS SELECT s.idx, 0::TINYINT AS side, {norm_sql(text)} AS text "
        f"FROM {SCOPE} s JOIN records r ON r.id = s.id"
    )


def components(a: np.ndarray, b: np.ndarray, score: np.ndarray) -> dict[int, tuple[int, float]]:
    """Connected components of the pair graph: member -> (smallest member, best score of the member)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    best: dict[int, float] = {}
    for x, y, s in zip(a.tolist(), b.tolist(), score.tolist(), strict=True):
        rx, ry = find(x), find(y)
        if rx != ry:
            lo, hi = (rx, ry) if rx < ry else (ry, rx)
            parent[hi] = lo
            parent.setdefault(lo, lo)
        best[x] = max(best.get(x, 0.0), s)
        best[y] = max(best.get(y, 0.0), s)
    return {m: (find(m), best[m]) for m in best}


def write_clusters(store: Store, method: str, comp: dict[int, tuple[int, float]], run_id: str) -> int:
    """Replace ``method``'s rows for the records in scope; returns how many records were marked.

    Rows of records outside the scope (an earlier run over a wider selection) are kept.
    """
    members = sorted(comp)
    reps = [comp[m][0] for m in members]
    scores = [comp[m][1] for m in members]
    with store.transaction() as con:
        con.execute(f"DELETE FROM dedup_marks WHERE method = ? AND record_id IN (SELECT id FROM {SCOPE})", [method])
        con.execute(f"DELETE FROM dedup_clusters WHERE method = ? AND record_id IN (SELECT id FROM {SCOPE})", [method])
        if members:
            con.execute(
                "INSERT INTO dedup_clusters (method, cluster_id, record_id, is_kept, score, run_id) "
                "SELECT ?, ? || k.id, m.id, mem.idx = mem.rep, mem.score, ? FROM "
                "(SELECT unnest(?::INTEGER[]) AS idx, unnest(?::INTEGER[]) AS rep, unnest(?::DOUBLE[]) AS score) mem "
                f"JOIN {SCOPE} m ON m.idx = mem.idx JOIN {SCOPE} k ON k.idx = mem.rep",
                [method, f"{method}:", run_id, members, reps, scores])
            con.execute(
                "INSERT INTO dedup_marks (record_id, method, cluster_id, kept_id, score) "
                "SELECT record_id, method, cluster_id, substr(cluster_id, length(method) + 2), score "
                "FROM dedup_clusters WHERE method = ? AND run_id = ? AND NOT is_kept", [method, run_id])
    return sum(1 for m in members if comp[m][0] != m)


def largest_clusters(comp: dict[int, tuple[int, float]], store: Store, method: str, n: int = 5) -> list[dict[str, Any]]:
    sizes: dict[int, int] = {}
    for rep, _ in comp.values():
        sizes[rep] = sizes.get(rep, 0) + 1
    top = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    out = []
    for rep, size in top:
        row = store.con.execute(f"SELECT id FROM {SCOPE} WHERE idx = ?", [rep]).fetchone()
        if row:
            out.append({"cluster_id": f"{method}:{row[0]}", "kept_id": row[0], "size": size})
    return out


def run_dedup(store: Store, cfg: DedupConfig) -> DedupResult:
    """Deduplicate the store's records under ``cfg.method`` (see the module doc)."""
    if cfg.against:
        from toolforge.dedup.against import run_against

        return run_against(store, cfg)
    t0 = time.perf_counter()
    n = build_scope(store, method=cfg.method, status=cfg.status, scenarios=cfg.scenarios)
    if n == 0:
        what = "records" if store.count_records() == 0 else "records matching the selection"
        raise InputError(f"no {what} to deduplicate in {store.path}",
                         hint="import or generate records first" if what == "records" else "widen --scenario/--status")
    if cfg.method == "exact":
        res = exact_pairs(store)
    elif cfg.method == "near":
        load_scope_docs(store)
        res = near_pairs(store.con, threshold=cfg.effective_threshold, num_perm=cfg.num_perm, ngram=cfg.ngram,
                         engine=cfg.engine)
    else:
        from toolforge.dedup.semantic import semantic_pairs_for_scope

        res = semantic_pairs_for_scope(store, threshold=cfg.effective_threshold, batch_size=cfg.batch_size)
    comp = components(res["a"], res["b"], res["score"])
    n_clusters = len({rep for rep, _ in comp.values()})
    result = DedupResult(
        method=cfg.method, records=n, pairs=len(res["a"]), clusters=n_clusters,
        marked=sum(1 for m, (rep, _) in comp.items() if rep != m),
        engine=cfg.engine if cfg.method == "near" else None,
        threshold=cfg.effective_threshold if cfg.method != "exact" else None,
        candidates=res.get("candidates"), dry_run=cfg.dry_run,
        largest=largest_clusters(comp, store, cfg.method),
    )
    if not cfg.dry_run:
        run_id = store.create_run("dedup", config=cfg.model_dump(mode="json"))
        try:
            result.marked = write_clusters(store, cfg.method, comp, run_id)
        except BaseException:
            store.set_run_status(run_id, "failed")
            raise
        store.set_run_status(run_id, "done")
        result.run_id = run_id
    result.seconds = round(time.perf_counter() - t0, 3)
    log.info("dedup %s: %d records, %d clusters, %d marked", cfg.method, n, n_clusters, result.marked)
    return result
