"""Agreement between annotators: Krippendorff's alpha (nominal) and agreement with the final verdict.

Alpha handles any number of annotators per record, missing annotations and
records seen by one person only (they are not pairable and are left out). Every
figure comes with the number of records (and values) it rests on, so a lead can
tell a real 0.8 from a 0.8 over three records.

For nominal data with coincidence matrix ``o`` (each record with ``m >= 2``
values adds ``1 / (m - 1)`` for every ordered pair of its values),
``n_c = sum_k o_ck`` and ``n = sum_c n_c``::

    alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c * n_k
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any


def krippendorff_alpha(units: Iterable[Sequence[Hashable]]) -> dict[str, Any]:
    """Nominal alpha over ``units`` (each the values one record got). ``alpha`` is None when undefined
    (fewer than two pairable values, or every value the same category)."""
    o: dict[tuple[Hashable, Hashable], float] = {}
    records = 0
    for values in units:
        m = len(values)
        if m < 2:
            continue
        records += 1
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nc - 1) if c == k else nc * nk
                if pairs:
                    o[(c, k)] = o.get((c, k), 0.0) + pairs / (m - 1)
    n_c: dict[Hashable, float] = {}
    for (c, _k), v in o.items():
        n_c[c] = n_c.get(c, 0.0) + v
    n = float(sum(n_c.values()))
    disagree = sum(v for (c, k), v in o.items() if c != k)
    expected = n * n - sum(v * v for v in n_c.values())
    alpha = None
    if n > 1 and expected > 1e-12:
        alpha = round(1.0 - (n - 1) * disagree / expected, 4)
    return {"alpha": alpha, "records": records, "values": round(n)}


def agreement_report(rows: Sequence[Mapping[str, Any]], final: Mapping[str, str]) -> dict[str, Any]:
    """Alpha overall, per scenario and per annotator pair; each annotator's agreement with the final verdict.

    ``rows``: one per counted annotation, with ``record_id``, ``annotator``, ``choice`` and ``scenario``.
    ``final``: record id -> resolved verdict.
    """
    by_record: dict[str, dict[str, str]] = {}
    scenario_of: dict[str, str] = {}
    for r in rows:
        # one value per annotator per record (their latest row wins)
        by_record.setdefault(r["record_id"], {})[r["annotator"]] = r["choice"]
        scenario_of[r["record_id"]] = r.get("scenario") or "(none)"
    units = {rid: list(v.values()) for rid, v in by_record.items()}
    overall = krippendorff_alpha(units.values())
    per_scenario = {}
    for scen in sorted(set(scenario_of.values())):
        per_scenario[scen] = krippendorff_alpha(u for rid, u in units.items() if scenario_of[rid] == scen)
    annotators = sorted({a for v in by_record.values() for a in v})
    pairs = {}
    for a, b in combinations(annotators, 2):
        both = [(v[a], v[b]) for v in by_record.values() if a in v and b in v]
        if not both:
            continue
        res = krippendorff_alpha(both)
        res["agreed"] = sum(x == y for x, y in both)
        pairs[f"{a} | {b}"] = res
    with_final = {}
    for a in annotators:
        mine = [(rid, v[a]) for rid, v in by_record.items() if a in v and rid in final]
        if mine:
            agreed = sum(choice == final[rid] for rid, choice in mine)
            with_final[a] = {"agreement": round(agreed / len(mine), 4), "records": len(mine), "agreed": agreed}
    multi = [u for u in units.values() if len(u) >= 2]
    return {
        "measure": "Krippendorff's alpha (nominal); records with one annotation are not pairable",
        "records_with_several": len(multi),
        "unanimous": sum(len(set(u)) == 1 for u in multi),
        "alpha": overall["alpha"],
        "alpha_records": overall["records"],
        "per_scenario": per_scenario,
        "per_pair": pairs,
        "with_final_verdict": with_final,
    }
