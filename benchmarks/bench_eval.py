"""Eval scoring speed: toolforge's BFCL matcher and turn scorer against a naive exact scorer.

    python benchmarks/bench_eval.py                 # BFCL (../shared/bfcl) x 5 passes, 50k record turns
    python benchmarks/bench_eval.py --turns 5000    # a quick run

- toolforge: ``toolforge.evaluate.bfcl.score_bfcl`` on gold predictions for every BFCL
  entry (per-parameter types, normalised strings, acceptable values, parallel
  calls matched in any order), and ``score_turn`` + ``aggregate`` on synthetic
  record turns (tool-name multisets, argument matching by maximum matching);
- baseline: what one writes first: a turn is right when the canonical JSON of the
  predicted call list equals the reference's (no normalisation, order-sensitive).

There is no target in the issue; the point is that the full BFCL set scores in well
under a second, within a small factor of the naive exact comparison. The ratio of
toolforge's time to the baseline's is printed last (lower is better).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolforge.canonical import canonical_json  # noqa: E402
from toolforge.evaluate.bfcl import ANY_CALL_CATEGORIES, NO_CALL_CATEGORIES, load_bfcl, score_bfcl  # noqa: E402
from toolforge.evaluate.bfcl_match import gold_calls  # noqa: E402
from toolforge.evaluate.predictions import Resolved  # noqa: E402
from toolforge.evaluate.score import RefTurn, aggregate, score_turn  # noqa: E402


def _gold(e):
    if e.category in NO_CALL_CATEGORIES:
        return []
    if e.category in ANY_CALL_CATEGORIES:
        return [{"name": e.functions[0]["name"], "arguments": {}}]
    return gold_calls(e.answers)


def _turns(n: int, seed: int = 0):
    rnd = random.Random(seed)
    tools = [{"type": "function", "function": {"name": f"t{i}", "parameters": {"type": "object", "properties": {
        "a": {"type": "string"}, "b": {"type": "integer", "default": 1}}, "required": ["a"]}}} for i in range(6)]
    out = []
    for i in range(n):
        k = rnd.choice([0, 1, 1, 2, 3])
        calls = [{"name": f"t{rnd.randrange(6)}", "arguments": {"a": f"v{rnd.randrange(50)}", "b": rnd.randrange(3)}}
                 for _ in range(k)]
        pred = [dict(c) for c in calls]
        rnd.shuffle(pred)
        if pred and rnd.random() < 0.3:
            pred[0] = {"name": pred[0]["name"], "arguments": {"a": "other"}}
        out.append((RefTurn(id=f"r{i}", turn=1, scenario=rnd.choice(["single_tool", "multi_tool_parallel"]),
                            calls=calls, tools=tools), Resolved(pred, attempted=bool(pred), valid=True)))
    return out


def _time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bfcl", default=str(ROOT.parent / "shared" / "bfcl"))
    ap.add_argument("--turns", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    entries = load_bfcl([args.bfcl])
    preds = {e.id: Resolved(_gold(e), attempted=True, valid=True) for e in entries}
    gold_json = {e.id: canonical_json(_gold(e)) for e in entries}

    def tf_bfcl() -> None:
        score_bfcl(entries, preds)

    def base_bfcl() -> None:
        sum(canonical_json(preds[e.id].calls) == gold_json[e.id] for e in entries)

    t_tf_b, t_base_b = _time(tf_bfcl, args.repeat), _time(base_bfcl, args.repeat)
    print(f"BFCL, {len(entries)} entries: toolforge {t_tf_b * 1000:.1f} ms, naive exact {t_base_b * 1000:.1f} ms")

    turns = _turns(args.turns)
    ref_json = [canonical_json(t.calls) for t, _ in turns]

    def tf_turns() -> None:
        aggregate([score_turn(t, r) for t, r in turns])

    def base_turns() -> None:
        sum(canonical_json(r.calls) == j for (_, r), j in zip(turns, ref_json, strict=True))

    t_tf_t, t_base_t = _time(tf_turns, max(1, args.repeat // 2)), _time(base_turns, max(1, args.repeat // 2))
    print(f"records, {len(turns)} turns: toolforge {t_tf_t * 1000:.1f} ms ({len(turns) / t_tf_t:,.0f} turns/s), "
          f"naive exact {t_base_t * 1000:.1f} ms")
    ratio = (t_tf_b + t_tf_t) / (t_base_b + t_base_t)
    print(f"ratio toolforge/baseline time: {ratio:.2f}")


if __name__ == "__main__":
    main()
