"""Scoring predicted calls against reference turns, and the metrics (see README: Eval).

Each assistant message of a reference record is one scored turn, given the
messages before it. Per turn we count, over called tool names as multisets:
true positives (names both called and expected), false positives, false
negatives; among the true positives, how many calls also have matching
arguments (parallel calls may come in any order: a maximum matching by
default, or official BFCL's greedy matching with ``matching="greedy"``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from toolforge.canonical import canonical_json
from toolforge.evaluate.bfcl_match import OMIT, Matching, check_call, matcher
from toolforge.evaluate.predictions import Resolved

MatchMode = Literal["exact", "bfcl"]
MATCH_MODES = ("exact", "bfcl")


@dataclass
class RefTurn:
    id: str
    turn: int
    scenario: str
    calls: list[dict[str, Any]]                      # [{"name", "arguments"}]
    tools: list[dict[str, Any]] = field(default_factory=list)     # record tools (OpenAI shape)
    context: list[dict[str, Any]] = field(default_factory=list)   # messages before this turn
    answers: list[dict[str, Any]] | None = None      # BFCL-style acceptable values, aligned with calls


@dataclass
class TurnScore:
    id: str
    turn: int
    scenario: str
    ref_calls: list[str]
    pred_calls: list[str]
    tp: int
    fp: int
    fn: int
    args_ok: int
    attempted: bool
    valid: bool
    exact: bool
    missing: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- argument matching ------------------------------------------------------------------------
def _canon_value(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, (str, int)):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else v
    if isinstance(v, dict):
        return {k: _canon_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_canon_value(x) for x in v]
    return v


def canonical_arguments(args: dict[str, Any], schema: dict[str, Any] | None = None) -> str:
    """Arguments in canonical form: keys sorted, integral floats as ints, and parameters
    that the schema gives a default dropped when they hold that default."""
    props = (schema or {}).get("properties") or {}
    out = {}
    for k, v in args.items():
        cv = _canon_value(v)
        spec = props.get(k)
        if isinstance(spec, dict) and "default" in spec:
            dflt = _canon_value(spec["default"])
            if dflt == cv and canonical_json(dflt) == canonical_json(cv):  # cheap test first; True == 1 needs the second
                continue
        out[k] = cv
    return canonical_json(out)


def _schema_of(tools: Sequence[dict[str, Any]], name: str) -> dict[str, Any] | None:
    for t in tools:
        fn = t.get("function", t)
        if fn.get("name") == name:
            params = fn.get("parameters")
            return params if isinstance(params, dict) else None
    return None


def _answer_value(v: Any) -> Any:
    """A plain value in BFCL's answer form: dict keys hold lists of acceptable values."""
    if isinstance(v, dict):
        return {k: [_answer_value(x)] for k, x in v.items()}
    if isinstance(v, list):
        return [_answer_value(x) for x in v]
    return v


def reference_answer(call: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    """A BFCL-style answer built from a reference call: its values, and the schema's optional
    parameters as omittable (or given their default)."""
    props = (schema or {}).get("properties") or {}
    required = set((schema or {}).get("required") or [])
    params: dict[str, list[Any]] = {}
    for k, v in call["arguments"].items():
        opts = [_answer_value(v)]
        spec = props.get(k)
        if isinstance(spec, dict) and "default" in spec and spec["default"] == v and k not in required:
            opts.append(OMIT)
        params[k] = opts
    for k, spec in props.items():
        if k in params or k in required:
            continue
        params[k] = [OMIT] + ([spec["default"]] if isinstance(spec, dict) and "default" in spec else [])
    return {call["name"]: params}


def args_match(pred: dict[str, Any], ref: dict[str, Any], ref_turn: RefTurn, mode: MatchMode,
               answer: dict[str, Any] | None = None) -> bool:
    if pred["name"] != ref["name"]:
        return False
    schema = _schema_of(ref_turn.tools, ref["name"])
    if mode == "exact":
        return canonical_arguments(pred["arguments"], schema) == canonical_arguments(ref["arguments"], schema)
    ans = answer or reference_answer(ref, schema)
    doc = {"name": ref["name"], "parameters": schema} if schema is not None else None
    return check_call(pred, ans, doc) is None


# -- one turn ------------------------------------------------------------------------------
def score_turn(ref: RefTurn, res: Resolved, *, mode: MatchMode = "exact", missing: bool = False,
               matching: Matching = "maximum") -> TurnScore:
    ref_names = [c["name"] for c in ref.calls]
    pred_names = [c["name"] for c in res.calls]
    overlap = Counter(ref_names) & Counter(pred_names)
    tp = sum(overlap.values())
    answers = ref.answers if ref.answers and len(ref.answers) == len(ref.calls) else None
    indexed = list(range(len(ref.calls)))
    if not tp:
        args_ok = 0
    elif mode == "exact":  # canonicalise each call once, then compare keys
        schemas = {n: _schema_of(ref.tools, n) for n in overlap}
        ref_keys = [(c["name"], canonical_arguments(c["arguments"], schemas.get(c["name"]))) for c in ref.calls]
        pred_keys = [(c["name"], canonical_arguments(c["arguments"], schemas.get(c["name"])))
                     if c["name"] in schemas else None for c in res.calls]
        args_ok = matcher(matching)(list(range(len(pred_keys))), indexed,
                            lambda i, j: pred_keys[i] is not None and pred_keys[i] == ref_keys[j])
    else:
        args_ok = matcher(matching)(
            res.calls, indexed,
            lambda p, j: args_match(p, ref.calls[j], ref, mode, answers[j] if answers else None),
        )
    exact = (len(pred_names) == len(ref_names) == args_ok) and (bool(ref_names) or not res.attempted)
    return TurnScore(
        id=ref.id, turn=ref.turn, scenario=ref.scenario, ref_calls=ref_names, pred_calls=pred_names,
        tp=tp, fp=len(pred_names) - tp, fn=len(ref_names) - tp, args_ok=args_ok,
        attempted=res.attempted, valid=res.valid, exact=exact, missing=missing, error=res.error,
    )


# -- metrics -------------------------------------------------------------------------------
def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def summarize(scores: Sequence[TurnScore]) -> dict[str, Any]:
    """The metrics over a group of scored turns, with the counts they are made of."""
    tp = sum(s.tp for s in scores)
    fp = sum(s.fp for s in scores)
    fn = sum(s.fn for s in scores)
    attempted = [s for s in scores if s.attempted]
    no_call_refs = [s for s in scores if not s.ref_calls]
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)  # the harmonic mean of micro precision and recall
    counts = {
        "turns": len(scores), "tp": tp, "fp": fp, "fn": fn,
        "outputs_with_calls": len(attempted), "valid_outputs_with_calls": sum(s.valid for s in attempted),
        "selected_calls": tp, "argument_correct_calls": sum(s.args_ok for s in scores),
        "no_call_turns": len(no_call_refs), "no_call_turns_correct": sum(not s.attempted for s in no_call_refs),
        "exact_turns": sum(s.exact for s in scores), "missing_predictions": sum(s.missing for s in scores),
    }
    return {
        "precision": precision, "recall": recall, "f1": f1,
        "json_validity": _ratio(counts["valid_outputs_with_calls"], counts["outputs_with_calls"]),
        "argument_correctness": _ratio(counts["argument_correct_calls"], tp),
        "no_tool_accuracy": _ratio(counts["no_call_turns_correct"], counts["no_call_turns"]),
        "exact_match": _ratio(counts["exact_turns"], len(scores)),
        "counts": counts,
    }


METRICS = ("precision", "recall", "f1", "json_validity", "argument_correctness", "no_tool_accuracy", "exact_match")


def aggregate(scores: Sequence[TurnScore]) -> dict[str, Any]:
    """Overall and per-scenario metrics."""
    by: dict[str, list[TurnScore]] = {}
    for s in scores:
        by.setdefault(s.scenario, []).append(s)
    return {"overall": summarize(scores), "by_scenario": {k: summarize(v) for k, v in sorted(by.items())}}


def dumps_turn(score: TurnScore) -> str:
    return json.dumps(score.to_dict(), ensure_ascii=False)
