"""BFCL (Berkeley Function Calling Leaderboard) single-turn files as references.

Question files are JSON Lines of ``{"id", "question": [[messages...]], "function": [docs]}``;
answers live in ``possible_answer/<same file name>`` next to them. The category
is read from the id (``live_multiple_12-3-0`` -> ``live_multiple``;
``simple_python_*`` is reported as ``simple``). Scoring rules per category:

- ``simple``, ``live_simple``, ``multiple``, ``live_multiple``: exactly one call, right per
  :func:`toolforge.evaluate.bfcl_match.check_call`;
- ``parallel``, ``parallel_multiple``, ``live_parallel``, ``live_parallel_multiple``: as many
  calls as answers, matched in any order;
- ``irrelevance``, ``live_irrelevance``: right when no call is made (an output with no
  parseable call counts as none);
- ``live_relevance``: right when at least one call is made.

Entries whose gold answer a correct checker rejects (``KNOWN_INCONSISTENT``, listed in the
data's README) are excluded unless asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolforge.errors import InputError
from toolforge.evaluate.bfcl_match import Matching, check_calls
from toolforge.evaluate.predictions import Resolved
from toolforge.io.jsonl import read_jsonl

KNOWN_INCONSISTENT = frozenset({
    "parallel_multiple_12", "parallel_multiple_26", "live_simple_106-63-0", "live_simple_112-68-0",
    "live_multiple_507-149-4", "live_multiple_862-181-3", "live_multiple_964-207-0",
})
NO_CALL_CATEGORIES = ("irrelevance", "live_irrelevance")
ANY_CALL_CATEGORIES = ("live_relevance",)
ONE_CALL_CATEGORIES = ("simple", "live_simple", "multiple", "live_multiple")
PARALLEL_CATEGORIES = ("parallel", "parallel_multiple", "live_parallel", "live_parallel_multiple")
CATEGORIES = ONE_CALL_CATEGORIES + PARALLEL_CATEGORIES + NO_CALL_CATEGORIES + ANY_CALL_CATEGORIES
_ID = re.compile(r"^(?P<cat>[a-z_]+?)_\d+(-\d+)*$")


def category_of(entry_id: str) -> str:
    m = _ID.match(entry_id)
    if not m:
        raise InputError(f"cannot tell the BFCL category of id {entry_id!r}")
    cat = m.group("cat")
    if cat.startswith("simple_"):  # simple_python, simple_java, simple_javascript
        return "simple" if cat == "simple_python" else cat
    return cat


@dataclass
class BfclEntry:
    id: str
    category: str
    messages: list[dict[str, Any]]        # the question's messages, turns flattened
    functions: list[dict[str, Any]]       # BFCL function docs
    answers: list[dict[str, Any]] | None = None   # ground truth, None for (live_)irrelevance/relevance
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.docs = {f["name"]: f for f in self.functions if isinstance(f, dict) and "name" in f}


def _question_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.glob("BFCL_*.json") if p.is_file())
        if not files:
            raise InputError(f"{path}: no BFCL_*.json question files in this folder")
        return files
    if not path.exists():
        raise InputError(f"file not found: {path}")
    return [path]


def _answers_for(qfile: Path) -> dict[str, list[dict[str, Any]]] | None:
    afile = qfile.parent / "possible_answer" / qfile.name
    if not afile.exists():
        return None
    out: dict[str, list[dict[str, Any]]] = {}
    for line in read_jsonl(afile):
        if line.error or not isinstance(line.value, dict) or "id" not in line.value:
            raise InputError(f"{afile}:{line.number}: not a BFCL answer line ({line.error or 'no id'})")
        gt = line.value.get("ground_truth")
        if not isinstance(gt, list):
            raise InputError(f"{afile}:{line.number}: ground_truth must be a list of calls")
        out[line.value["id"]] = gt
    return out


def load_bfcl(paths: Sequence[str | Path], *, categories: Sequence[str] | None = None) -> list[BfclEntry]:
    """Read BFCL question files (or folders of them) with their possible answers."""
    entries: list[BfclEntry] = []
    seen: set[str] = set()
    for p in paths:
        for qfile in _question_files(Path(p)):
            answers = _answers_for(qfile)
            for line in read_jsonl(qfile):
                v = line.value
                if line.error or not isinstance(v, dict) or not isinstance(v.get("id"), str):
                    raise InputError(f"{qfile}:{line.number}: not a BFCL question line ({line.error or 'no id'})")
                cat = category_of(v["id"])
                if categories and cat not in categories:
                    continue
                if v["id"] in seen:
                    raise InputError(f"{qfile}:{line.number}: BFCL id {v['id']!r} appears twice")
                seen.add(v["id"])
                question = v.get("question")
                if not isinstance(question, list) or not question:
                    raise InputError(f"{qfile}:{line.number}: 'question' must be a list of turns")
                msgs = [m for turn in question for m in (turn if isinstance(turn, list) else [turn])]
                entry = BfclEntry(id=v["id"], category=cat, messages=msgs, functions=list(v.get("function") or []))
                if cat not in NO_CALL_CATEGORIES + ANY_CALL_CATEGORIES:
                    if answers is None:
                        raise InputError(f"{qfile}: no answer file at {qfile.parent / 'possible_answer' / qfile.name}",
                                         hint="BFCL answers live in possible_answer/ next to the question files")
                    if v["id"] not in answers:
                        raise InputError(f"{qfile}:{line.number}: no possible answer for {v['id']!r}")
                    entry.answers = answers[v["id"]]
                entries.append(entry)
    if not entries:
        raise InputError("no BFCL entries to score" + (f" in categories {', '.join(categories)}" if categories else ""))
    return entries


def check_entry(entry: BfclEntry, res: Resolved, *, matching: Matching = "greedy") -> str | None:
    """None when the prediction is right for this entry, else why it is wrong. Parallel calls
    are matched greedily, as official BFCL does, unless ``matching="maximum"``."""
    if entry.category in NO_CALL_CATEGORIES:
        return f"called {', '.join(c['name'] for c in res.calls)} where no call was right" if res.calls else None
    if entry.category in ANY_CALL_CATEGORIES:
        return None if res.calls else "no call made where one was expected"
    assert entry.answers is not None
    if not res.valid:
        return f"output did not parse: {res.error}"
    if entry.category in ONE_CALL_CATEGORIES:
        return check_calls(res.calls, entry.answers, entry.docs, exactly_one=True)
    return check_calls(res.calls, entry.answers, entry.docs, matching=matching)


def score_bfcl(entries: Sequence[BfclEntry], resolved: dict[str, Resolved], *,
               include_inconsistent: bool = False, missing: Sequence[str] = (),
               matching: Matching = "greedy") -> dict[str, Any]:
    """Per-category accuracy; ``resolved`` maps entry id to the resolved prediction.
    ``matching`` pairs parallel calls with answers: ``greedy`` (official BFCL) or ``maximum``."""
    cats: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, Any]] = []
    missing_set = set(missing)
    for e in entries:
        row = cats.setdefault(e.category, {"entries": 0, "correct": 0, "excluded": 0, "missing": 0})
        if e.id in KNOWN_INCONSISTENT and not include_inconsistent:
            row["excluded"] += 1
            continue
        row["entries"] += 1
        row["missing"] += e.id in missing_set
        why = check_entry(e, resolved.get(e.id) or Resolved([], attempted=False, valid=True), matching=matching)
        if why is None:
            row["correct"] += 1
        else:
            failures.append({"id": e.id, "category": e.category, "reason": why})
    for row in cats.values():
        row["accuracy"] = round(row["correct"] / row["entries"], 4) if row["entries"] else None
    total = sum(r["entries"] for r in cats.values())
    correct = sum(r["correct"] for r in cats.values())
    accs = [r["accuracy"] for r in cats.values() if r["accuracy"] is not None]
    overall = {
        "entries": total, "correct": correct,
        "excluded": sum(r["excluded"] for r in cats.values()),
        "missing": sum(r["missing"] for r in cats.values()),
        "accuracy": round(correct / total, 4) if total else None,
        "category_mean": round(sum(accs) / len(accs), 4) if accs else None,
    }
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return {"kind": "bfcl", "matching": matching, "overall": overall,
            "by_category": {k: cats[k] for k in sorted(cats, key=lambda c: (order.get(c, 99), c))},
            "failures": failures}
