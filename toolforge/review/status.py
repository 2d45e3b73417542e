"""``toolforge review status``: verdict counts, annotators, agreement (from the store only)."""

from __future__ import annotations

from typing import Any

from toolforge.review.agreement import agreement_report
from toolforge.review.config import VERDICTS
from toolforge.store.db import Store


def _judge_agreement(store: Store) -> dict[str, Any]:
    # the LLM judge vs these verdicts (issue #15)
    from toolforge.validate.judge import judge_agreement

    return judge_agreement(store)


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
        row = annotators.setdefault(who, {"annotations": 0, **{v: 0 for v in VERDICTS}, "skipped": 0, "invalid": 0,
                                          "stale": 0})
        row["annotations"] += n
        if status == "ok" and choice in VERDICTS:
            row[choice] += n
        elif status in ("skipped", "invalid", "stale"):
            row[status] += n
    edits = dict(con.execute("SELECT edit_status, count(*) FROM review_annotations WHERE edit_status <> 'none' "
                             "GROUP BY 1").fetchall())
    rows = [{"record_id": rid, "annotator": who, "choice": choice, "scenario": scen}
            for rid, who, choice, scen in con.execute(
                "SELECT a.record_id, a.annotator, a.choice, r.scenario FROM review_annotations a "
                "LEFT JOIN records r ON r.id = a.record_id WHERE a.status = 'ok' AND a.choice IS NOT NULL "
                "ORDER BY a.record_id, a.annotated_at NULLS FIRST, a.annotation_id").fetchall()]
    final = dict(con.execute("SELECT record_id, verdict FROM review_verdicts").fetchall())
    agreement = agreement_report(rows, final)
    outcomes: dict[str, Any] = {"by_basis": {}, "pending": []}
    if store.has_table("review_outcomes"):
        outcomes["by_basis"] = dict(con.execute("SELECT basis, count(*) FROM review_outcomes GROUP BY 1 "
                                                "ORDER BY 1").fetchall())
        outcomes["pending"] = [{"record_id": rid, "detail": detail} for rid, detail in con.execute(
            "SELECT record_id, detail FROM review_outcomes WHERE pending ORDER BY record_id LIMIT 50").fetchall()]
    stale = dict(con.execute("SELECT status, count(*) FROM review_annotations WHERE status IN ('stale', 'invalid') "
                             "GROUP BY 1").fetchall())
    return {
        "pushed": int(pushed[0]) if pushed else 0,
        "reviewed": sum(verdicts.values()),
        "verdicts": verdicts,
        "annotators": annotators,
        "edits": edits,
        "agreement": agreement,
        "outcomes": outcomes,
        "not_counted": stale,
        "judge_agreement": _judge_agreement(store),
        "resolution": "a ground-truth annotation settles the record; otherwise the majority, ties going to the most "
                      "cautious choice (reject > needs_fix > accept); a needs_fix with a valid fix accepts the fixed "
                      "revision unless someone rejected; an invalid edit holds an accept back",
    }
