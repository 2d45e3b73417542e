"""``toolforge review status``: verdict counts, annotators, agreement (from the store only)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Any

from toolforge.review.config import VERDICTS
from toolforge.store.db import Store


def fleiss_kappa(items: list[list[str]], categories: tuple[str, ...] = VERDICTS) -> float | None:
    """Fleiss' kappa over items that have the same number (>= 2) of ratings; None when undefined."""
    by_n: Counter[int] = Counter(len(i) for i in items if len(i) >= 2)
    if not by_n:
        return None
    n = by_n.most_common(1)[0][0]
    rows = [i for i in items if len(i) == n]
    big_n = len(rows)
    p_j = [sum(r.count(c) for r in rows) / (big_n * n) for c in categories]
    p_i = [(sum(r.count(c) ** 2 for c in categories) - n) / (n * (n - 1)) for r in rows]
    p_bar = sum(p_i) / big_n
    p_e = sum(p * p for p in p_j)
    if p_e >= 1.0:
        return None
    return round((p_bar - p_e) / (1 - p_e), 4)


def review_status(store: Store) -> dict[str, Any]:
    con = store.con
    verdicts = {v: 0 for v in VERDICTS}
    verdicts.update(dict(con.execute("SELECT verdict, count(*) FROM review_verdicts v JOIN records r ON r.id = v.record_id "
                                     "WHERE NOT EXISTS (SELECT 1 FROM records c WHERE c.parent_id = r.id) "
                                     "GROUP BY verdict").fetchall()))
    pushed = con.execute("SELECT count(DISTINCT record_id) FROM review_tasks").fetchone()
    annotators: dict[str, dict[str, int]] = {}
    for who, status, choice, n in con.execute(
            "SELECT annotator, status, coalesce(choice, ''), count(*) FROM review_annotations "
            "GROUP BY ALL ORDER BY 1").fetchall():
        row = annotators.setdefault(who, {"annotations": 0, **{v: 0 for v in VERDICTS}, "skipped": 0, "invalid": 0})
        row["annotations"] += n
        if status == "ok" and choice in VERDICTS:
            row[choice] += n
        elif status in ("skipped", "invalid"):
            row[status] += n
    edits = dict(con.execute("SELECT edit_status, count(*) FROM review_annotations WHERE edit_status <> 'none' "
                             "GROUP BY 1").fetchall())
    per_record: dict[str, list[str]] = {}
    for rid, choice in con.execute("SELECT record_id, choice FROM review_annotations WHERE status = 'ok' "
                                   "AND choice IS NOT NULL ORDER BY record_id, annotation_id").fetchall():
        per_record.setdefault(rid, []).append(choice)
    multi = [c for c in per_record.values() if len(c) >= 2]
    pairs = [(a, b) for c in multi for a, b in combinations(c, 2)]
    agreement = {
        "records_with_several": len(multi),
        "unanimous": sum(len(set(c)) == 1 for c in multi),
        "pairwise_agreement": round(sum(a == b for a, b in pairs) / len(pairs), 4) if pairs else None,
        "fleiss_kappa": fleiss_kappa(multi),
    }
    return {
        "pushed": int(pushed[0]) if pushed else 0,
        "reviewed": sum(verdicts.values()),
        "verdicts": verdicts,
        "annotators": annotators,
        "edits": edits,
        "agreement": agreement,
        "resolution": "majority of annotators; ties go to the most cautious choice (reject > needs_fix > accept)",
    }
