"""``toolforge gaps``: from eval results to a generation recipe aimed at the weak spots.

The smol-tools card's targeted step as a command: generate more of what the student gets
wrong. The rule, simple enough to check by hand:

- ``value[g]`` is the chosen metric (``f1`` by default) of group ``g`` (a scenario, or a
  tool) in the newest result; groups with no scored turns, or no value, are left out.
- ``best`` is the highest ``value`` among the groups.
- ``shortfall[g] = best - value[g]``; with an older result too, a group that fell since
  then adds its fall: ``shortfall[g] += max(0, old[g] - value[g])``.
- Scenario counts split ``total`` in proportion to the shortfalls (largest remainders);
  a scenario at the best value gets none. Tool weights are ``1 + shortfall / max
  shortfall`` for tools with a shortfall (generation prefers them in its tool subsets).

The recipe is a normal recipe (``toolforge run`` or ``toolforge generate --recipe``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from toolforge.errors import InputError
from toolforge.record import SCENARIOS

GAP_METRICS = ("f1", "precision", "recall", "exact_match", "argument_correctness", "json_validity", "no_tool_accuracy")


def _values(groups: Mapping[str, Any], metric: str) -> dict[str, float]:
    out = {}
    for name, g in groups.items():
        v = g.get(metric) if isinstance(g, Mapping) else None
        turns = (g.get("counts") or {}).get("turns", 1) if isinstance(g, Mapping) else 0
        if isinstance(v, (int, float)) and turns:
            out[name] = float(v)
    return out


def shortfalls(new: Mapping[str, float], old: Mapping[str, float] | None = None) -> dict[str, float]:
    if not new:
        return {}
    best = max(new.values())
    out = {}
    for g, v in new.items():
        s = best - v
        if old is not None and g in old:
            s += max(0.0, old[g] - v)
        out[g] = round(s, 6)
    return out


def split_total(weights: Mapping[str, float], total: int) -> dict[str, int]:
    """``total`` split in proportion to ``weights`` (largest remainders; ties by name)."""
    wsum = sum(w for w in weights.values() if w > 0)
    if wsum <= 0:
        return {}
    exact = {k: total * w / wsum for k, w in weights.items() if w > 0}
    counts = {k: int(v) for k, v in exact.items()}
    rest = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), k))[:rest]:
        counts[k] += 1
    return {k: v for k, v in counts.items() if v > 0}


def gap_recipe(results: Sequence[dict[str, Any]], *, total: int, metric: str = "f1", name: str = "targeted",
               catalogs: Sequence[str] = ("smol-tools",), teacher: str | None = None, seed: int = 0) -> dict[str, Any]:
    """``{"recipe": ..., "analysis": ...}``: a recipe that targets the weakest scenarios and tools of ``results[-1]``
    (``results[0]`` is the older result when two are given)."""
    if not 1 <= len(results) <= 2:
        raise InputError("gaps reads one or two eval results")
    if metric not in GAP_METRICS:
        raise InputError(f"unknown metric {metric!r}", hint=f"choose one of: {', '.join(GAP_METRICS)}")
    for r in results:
        if r.get("kind") != "records":
            raise InputError("gaps reads eval results of records (BFCL results have no scenarios)")
    new = results[-1]
    old = results[0] if len(results) == 2 else None
    scen_new = {k: v for k, v in _values(new.get("by_scenario", {}), metric).items() if k in SCENARIOS}
    if not scen_new:
        raise InputError(f"the eval result has no per-scenario {metric}")
    scen_short = shortfalls(scen_new, _values(old.get("by_scenario", {}), metric) if old else None)
    counts = split_total(scen_short, total)
    if not counts:
        raise InputError(f"no gap to target: every scenario has the same {metric} ({max(scen_new.values()):.3f})",
                         hint="try another --metric, or generate a broader mix")
    tool_new = _values(new.get("by_tool", {}), metric)
    tool_short = shortfalls(tool_new, _values(old.get("by_tool", {}), metric) if old else None)
    top = max(tool_short.values(), default=0.0)
    tool_weights = {t: round(1 + s / top, 4) for t, s in sorted(tool_short.items()) if s > 0} if top > 0 else {}
    generate: dict[str, Any] = {"scenarios": counts, "catalogs": list(catalogs), "seed": seed}
    if teacher:
        generate["teacher"] = teacher
    if tool_weights:
        generate["tool_weights"] = tool_weights
    why = ", ".join(f"{s} {scen_new[s]:.3f}" for s in sorted(counts, key=lambda s: scen_new[s]))
    recipe = {"name": name,
              "description": f"targeted generation: {total} records toward the scenarios below the best {metric} "
                             f"({max(scen_new.values()):.3f}): {why}",
              "generate": generate}
    analysis = {"metric": metric, "scenario_values": scen_new, "scenario_shortfalls": scen_short,
                "tool_values": tool_new, "tool_shortfalls": tool_short}
    return {"recipe": recipe, "analysis": analysis}


def recipe_yaml(gap: dict[str, Any]) -> str:
    """The recipe as YAML, with the figures it was made from as comments on top."""
    import yaml

    a = gap["analysis"]
    lines = [f"# toolforge gaps: {a['metric']} per scenario (shortfall from the best)"]
    lines += [f"#   {s}: {v:.3f} (shortfall {a['scenario_shortfalls'][s]:.3f})" for s, v in sorted(a["scenario_values"].items())]
    if a["tool_values"]:
        lines.append(f"# {a['metric']} per tool (shortfall)")
        lines += [f"#   {t}: {v:.3f} ({a['tool_shortfalls'][t]:.3f})" for t, v in sorted(a["tool_values"].items())]
    return "\n".join(lines) + "\n" + yaml.safe_dump(gap["recipe"], sort_keys=False, allow_unicode=True)
