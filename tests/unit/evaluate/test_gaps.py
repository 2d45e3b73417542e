"""`toolforge gaps`: a planted pair of eval results and the recipe a hand calculation gives."""

from __future__ import annotations

import pytest
import yaml

from toolforge.errors import InputError
from toolforge.evaluate.gaps import gap_recipe, recipe_yaml, split_total
from toolforge.recipe import Recipe


def _g(f1: float | None, turns: int = 10) -> dict:
    return {"f1": f1, "exact_match": f1, "counts": {"turns": turns}}


OLD = {"kind": "records", "overall": _g(0.8),
       "by_scenario": {"single_tool": _g(0.9), "multi_tool_parallel": _g(0.8), "reasoning_heavy": _g(0.7),
                       "complex_multi_step": _g(0.6), "no_tool_needed": _g(1.0)},
       "by_tool": {"get_weather": _g(0.9), "calculate": _g(0.5), "translate": _g(1.0)}}
NEW = {"kind": "records", "overall": _g(0.85),
       "by_scenario": {"single_tool": _g(0.95), "multi_tool_parallel": _g(0.7), "reasoning_heavy": _g(0.75),
                       "complex_multi_step": _g(0.55), "no_tool_needed": _g(0.95),
                       "error_recovery": _g(None, 0)},       # no value: left out
       "by_tool": {"get_weather": _g(0.95), "calculate": _g(0.65), "translate": _g(0.8)}}


def test_one_result_splits_the_total_by_shortfall_from_the_best():
    gap = gap_recipe([NEW], total=100)
    # best 0.95; shortfalls: parallel 0.25, reasoning 0.20, complex 0.40 (sum 0.85)
    # 100 * 0.25/0.85 = 29.41, 100 * 0.20/0.85 = 23.53, 100 * 0.40/0.85 = 47.06 -> 29, 23, 47 + 1 to the
    # largest remainder (reasoning .53) -> 29, 24, 47
    assert gap["recipe"]["generate"]["scenarios"] == {"multi_tool_parallel": 29, "reasoning_heavy": 24,
                                                      "complex_multi_step": 47}
    # tools: best 0.95; calculate 0.30, translate 0.15 -> weights 1 + s / 0.30
    assert gap["recipe"]["generate"]["tool_weights"] == {"calculate": 2.0, "translate": 1.5}


def test_two_results_add_what_each_group_lost_since_the_older_one():
    gap = gap_recipe([OLD, NEW], total=100)
    a = gap["analysis"]["scenario_shortfalls"]
    # parallel fell 0.1 (0.25 + 0.10), complex fell 0.05 (0.40 + 0.05), no_tool fell 0.05 (0 + 0.05), reasoning rose
    assert a == pytest.approx({"single_tool": 0.0, "multi_tool_parallel": 0.35, "reasoning_heavy": 0.2,
                               "complex_multi_step": 0.45, "no_tool_needed": 0.05})
    # sum 1.05: 33.33, 19.05, 42.86, 4.76 -> 33, 19, 42, 4 (98) + 2 by remainder (.86 complex, .76 no_tool)
    assert gap["recipe"]["generate"]["scenarios"] == {"multi_tool_parallel": 33, "reasoning_heavy": 19,
                                                      "complex_multi_step": 43, "no_tool_needed": 5}
    # translate fell 0.2 (0.15 + 0.2 = 0.35), calculate rose (0.30): weights 1 + s / 0.35
    assert gap["recipe"]["generate"]["tool_weights"] == {"calculate": round(1 + 0.3 / 0.35, 4), "translate": 2.0}


def test_the_written_recipe_loads_as_a_recipe_and_shows_its_figures():
    text = recipe_yaml(gap_recipe([NEW], total=100, teacher="openai:m@http://127.0.0.1:1/v1"))
    assert text.startswith("# toolforge gaps: f1 per scenario")
    assert "#   complex_multi_step: 0.550 (shortfall 0.400)" in text
    recipe = Recipe.model_validate(yaml.safe_load(text))
    assert recipe.generate.targets() == {"multi_tool_parallel": 29, "reasoning_heavy": 24, "complex_multi_step": 47}
    assert recipe.generate.tool_weights["calculate"] == 2.0


def test_no_gap_and_bad_input_are_clear_errors():
    flat = {"kind": "records", "overall": _g(1.0), "by_scenario": {"single_tool": _g(1.0), "no_tool_needed": _g(1.0)}}
    with pytest.raises(InputError, match="no gap"):
        gap_recipe([flat], total=10)
    with pytest.raises(InputError, match="BFCL"):
        gap_recipe([{"kind": "bfcl", "overall": {}}], total=10)
    with pytest.raises(InputError, match="unknown metric"):
        gap_recipe([NEW], total=10, metric="vibes")


def test_split_total_is_exact_and_drops_zero_weights():
    assert split_total({"a": 1, "b": 1, "c": 0}, 3) == {"a": 2, "b": 1}
    assert sum(split_total({"a": 0.3, "b": 0.3, "c": 0.4}, 7).values()) == 7
