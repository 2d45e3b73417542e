"""Per-tool figures of an eval: which tools the model picks wrongly or misses.

For each tool named in a reference or a prediction: true positives (called as often as
expected, counted per turn as the smaller of the two counts), false positives, false
negatives, precision, recall, F1, and the exact-match rate of the turns whose reference
calls that tool (a turn's arguments are judged as a whole, so a tool's ``exact_match`` is
the share of its turns the model got entirely right).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from toolforge.evaluate.score import TurnScore


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def by_tool(scores: Sequence[TurnScore]) -> dict[str, dict[str, Any]]:
    counts: dict[str, Counter[str]] = {}
    for s in scores:
        ref, pred = Counter(s.ref_calls), Counter(s.pred_calls)
        for name in ref.keys() | pred.keys():
            c = counts.setdefault(name, Counter())
            tp = min(ref[name], pred[name])
            c["tp"] += tp
            c["fp"] += pred[name] - tp
            c["fn"] += ref[name] - tp
            if ref[name]:
                c["turns"] += 1
                c["exact_turns"] += s.exact
    out = {}
    for name in sorted(counts):
        c = counts[name]
        out[name] = {"precision": _ratio(c["tp"], c["tp"] + c["fp"]), "recall": _ratio(c["tp"], c["tp"] + c["fn"]),
                     "f1": _ratio(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"]),
                     "exact_match": _ratio(c["exact_turns"], c["turns"]),
                     "counts": {k: c[k] for k in ("turns", "tp", "fp", "fn", "exact_turns")}}
    return out
