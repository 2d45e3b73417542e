"""Dedup: exact, near (MinHash + LSH) and semantic (sentence embeddings) duplicates,
and decontamination against an evaluation set.

Results are clusters with a kept representative (``dedup_clusters``) and marks on
the other members (core ``dedup_marks``); records are never deleted, and every
later stage skips marked records by default (see :mod:`toolforge.store.select`).

Library use::

    from toolforge.dedup import make_config, run_dedup
    with open_store("toolforge.duckdb") as store:
        result = run_dedup(store, make_config(method="near", threshold=0.8))

Export keeps a cluster on one side of a split with :func:`clusters`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolforge.dedup.config import DEFAULT_THRESHOLDS, METHODS, DedupConfig, make_config
from toolforge.dedup.run import DedupResult, run_dedup

if TYPE_CHECKING:
    from toolforge.store.db import Store

__all__ = ["DEFAULT_THRESHOLDS", "METHODS", "DedupConfig", "DedupResult", "clusters", "make_config", "run_dedup"]


def clusters(store: Store, method: str | None = None) -> dict[str, str]:
    """``record_id -> cluster_id`` for every record in a duplicate cluster (kept one included).

    With ``method=None`` the clusters of all methods are merged (a record in an
    exact cluster and a near cluster joins them), and each merged cluster is named
    by the smallest of its cluster ids. Records in no cluster are absent.
    """
    if not store.has_table("dedup_clusters"):
        return {}
    if method is not None:
        rows = store.con.execute(
            "SELECT record_id, cluster_id FROM dedup_clusters WHERE method = ? ORDER BY record_id", [method]
        ).fetchall()
        return {r: c for r, c in rows}
    rows = store.con.execute("SELECT record_id, cluster_id FROM dedup_clusters ORDER BY cluster_id").fetchall()
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for rid, cid in rows:
        a, b = find("r:" + rid), find("c:" + cid)
        if a != b:
            parent[max(a, b, key=_rank)] = min(a, b, key=_rank)
    out: dict[str, str] = {}
    for rid, _ in rows:
        out[rid] = find("r:" + rid)[2:]
    return out


def _rank(node: str) -> tuple[int, str]:
    # cluster nodes ("c:...") win over record nodes, then the smallest id
    return (0 if node.startswith("c:") else 1, node)
