"""Evaluation: score any model's tool calls against reference records or BFCL files.

- :func:`run_eval` with an :class:`EvalConfig`: the whole ``toolforge eval``.
- :mod:`.score`: scored turns and the metrics (precision, recall, F1 over tool names,
  JSON validity, argument correctness, no-tool accuracy, exact match).
- :mod:`.bfcl_match` / :mod:`.bfcl`: BFCL's matching rules and categories.
- :mod:`.predict`: predictions from any teacher backend (``load_teacher``).
- :mod:`.compare`: tables and two results side by side.
"""

from __future__ import annotations

from toolforge.evaluate.compare import compare_results, result_rows
from toolforge.evaluate.run import EvalConfig, load_result, run_eval
from toolforge.evaluate.score import METRICS, RefTurn, TurnScore, aggregate, score_turn, summarize

__all__ = [
    "METRICS", "EvalConfig", "RefTurn", "TurnScore", "aggregate", "compare_results", "load_result",
    "result_rows", "run_eval", "score_turn", "summarize",
]
