"""Tables of eval results, and two results side by side."""

from __future__ import annotations

from typing import Any

from toolforge.errors import InputError
from toolforge.evaluate.score import METRICS

BFCL_COLUMNS = ("entries", "correct", "accuracy", "excluded", "missing")


def result_rows(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows (overall first, then each scenario or BFCL category)."""
    if result["kind"] == "bfcl":
        cols = ["category", *BFCL_COLUMNS]
        rows = [[cat, *(row.get(c) for c in BFCL_COLUMNS)] for cat, row in result["by_category"].items()]
        ov = result["overall"]
        rows.append(["overall", *(ov.get(c) for c in BFCL_COLUMNS)])
        return cols, rows
    cols = ["scenario", "turns", *METRICS]
    groups = [("overall", result["overall"]), *result["by_scenario"].items()]
    return cols, [[name, g["counts"]["turns"], *(g[m] for m in METRICS)] for name, g in groups]


def _groups(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if result["kind"] == "bfcl":
        return {"overall": result["overall"], **result["by_category"]}
    return {"overall": result["overall"], **result["by_scenario"]}


def compare_results(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Every metric of every group in either result: A, B and B - A."""
    if a.get("kind") != b.get("kind"):
        raise InputError(f"cannot compare a {a.get('kind')} result with a {b.get('kind')} result")
    metrics = ("accuracy",) if a["kind"] == "bfcl" else METRICS
    ga, gb = _groups(a), _groups(b)
    names = list(ga) + [n for n in gb if n not in ga]
    rows = []
    for name in names:
        for m in metrics:
            va = ga.get(name, {}).get(m)
            vb = gb.get(name, {}).get(m)
            delta = round(vb - va, 4) if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
            rows.append({"group": name, "metric": m, "a": va, "b": vb, "delta": delta})
    return {"kind": a["kind"], "rows": rows}
