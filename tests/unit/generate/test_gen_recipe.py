"""Recipes: the shipped smol-tools mix, counts vs proportions, bad recipes."""

from __future__ import annotations

import pytest

from toolforge.errors import InputError, UsageError
from toolforge.recipe import GeneratePart, load_recipe
from toolforge.resources import recipes_dir


def test_shipped_smol_tools_recipe_has_the_eval_mix():
    r = load_recipe(recipes_dir() / "smol-tools.yaml")
    assert r.generate.targets() == {"single_tool": 53, "multi_tool_sequential": 36, "reasoning_heavy": 35,
                                    "complex_multi_step": 22, "multi_tool_parallel": 18, "no_tool_needed": 18,
                                    "error_recovery": 18}
    scaled = r.generate.targets(2000)
    assert sum(scaled.values()) == 2000 and scaled["single_tool"] == 530
    small = r.generate.targets(7)
    assert sum(small.values()) == 7
    assert load_recipe("smol-tools").name == "smol-tools"  # a bare name finds the shipped recipe


def test_counts_without_total_and_fractions_need_a_total():
    assert GeneratePart(scenarios={"single_tool": 3}).targets() == {"single_tool": 3}
    with pytest.raises(UsageError):
        GeneratePart(scenarios={"single_tool": 0.5}).targets()


def test_bad_recipes(tmp_path):
    with pytest.raises(InputError):
        load_recipe(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ngenerate:\n  scenarios: {made_up: 3}\n")
    with pytest.raises(InputError) as e:
        load_recipe(bad)
    assert "made_up" in str(e.value)
    rel = tmp_path / "rel.yaml"
    (tmp_path / "cat.json").write_text("[]")
    rel.write_text("name: x\ngenerate:\n  scenarios: {single_tool: 1}\n  catalogs: [cat.json]\n")
    assert load_recipe(rel).resolve_catalogs() == [str(tmp_path / "cat.json")]
