"""Recipes: YAML files describing a dataset build (``datasets/*.yaml``).

The ``generate`` part says which scenarios to generate (counts, or proportions
of a ``total``), from which catalogs, with which teacher and seed. Other stages
(validate, dedup, tts, export, push) add their own parts later.

.. code-block:: yaml

    name: smol-tools
    generate:
      total: 200
      scenarios: {single_tool: 53, multi_tool_sequential: 36, ...}   # proportions when total is set
      catalogs: [smol-tools]
      teacher: llamacpp:smollm2
      seed: 7
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from toolforge.errors import InputError, UsageError
from toolforge.pipeline.sections import (
    DedupSection,
    ExportSection,
    PushSection,
    ReviewSection,
    TTSSection,
    ValidateSection,
)
from toolforge.record import SCENARIOS
from toolforge.train.config import TrainSection
from toolforge.train.experiment import ExperimentSection


class GeneratePart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenarios: dict[str, float] = Field(description="count per scenario, or proportions of `total`")
    total: int | None = Field(default=None, ge=0)
    catalogs: list[str] = Field(default_factory=lambda: ["smol-tools"])
    teacher: str | None = None
    teacher_options: dict[str, Any] = Field(default_factory=dict)
    teachers: list[Any] = Field(default_factory=list, description="a fleet: endpoint specs or {spec, weight, "
                                "concurrency, options} (toolforge.backends.fleet)")
    seed: int | None = None
    concurrency: int | None = Field(default=None, ge=1)
    max_attempts: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=16)
    meaning_checks: bool | None = Field(default=None, description="False: the accept step checks form only "
                                        "(None: on, except for the packaged smoke-test model)")
    tool_weights: dict[str, float] = Field(default_factory=dict, description="prefer these tools in tool subsets "
                                           "(`toolforge gaps` writes them)")
    min_rounds: int | None = Field(default=None, ge=3, le=20, description="multi_turn sessions: fewest user rounds")
    max_rounds: int | None = Field(default=None, ge=3, le=20, description="multi_turn sessions: most user rounds")

    @field_validator("scenarios")
    @classmethod
    def _known(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("needs at least one scenario")
        for s, x in v.items():
            if s not in SCENARIOS and s != "multi_turn":
                raise ValueError(f"unknown scenario {s!r} (choose from {', '.join(SCENARIOS)}, multi_turn)")
            if x < 0:
                raise ValueError(f"{s}: must not be negative")
        return v

    def targets(self, total: int | None = None) -> dict[str, int]:
        """Counts per scenario; proportions are scaled to ``total`` (largest remainders)."""
        total = total if total is not None else self.total
        if total is None:
            bad = [s for s, x in self.scenarios.items() if x != int(x)]
            if bad:
                raise UsageError(f"recipe scenarios {bad} are fractions but no total is given")
            return {s: int(x) for s, x in self.scenarios.items()}
        weight = sum(self.scenarios.values())
        if weight <= 0:
            raise UsageError("recipe scenario proportions sum to zero")
        exact = {s: total * x / weight for s, x in self.scenarios.items()}
        counts = {s: int(v) for s, v in exact.items()}
        rest = total - sum(counts.values())
        for s in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[:rest]:
            counts[s] += 1
        return counts


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    generate: GeneratePart
    # Later stages (toolforge run); each optional: a missing section turns its stage off.
    validation: ValidateSection | None = None
    dedup: DedupSection | None = None
    tts: TTSSection | None = None
    review: ReviewSection | None = None
    export: ExportSection | None = None
    push: PushSection | None = None
    # The train-evaluate loop (toolforge train / experiment): settings and data variants.
    train: TrainSection | None = None
    experiment: ExperimentSection | None = None
    path: Path | None = Field(default=None, exclude=True)

    def resolve_catalogs(self) -> list[str]:
        """Catalog names as given; relative catalog paths resolved against the recipe's folder."""
        out = []
        for c in self.generate.catalogs:
            looks_like_path = c.endswith(".json") or "/" in c
            if looks_like_path and self.path is not None and not Path(c).is_absolute():
                cand = self.path.parent / c
                out.append(str(cand if cand.exists() or not Path(c).exists() else Path(c)))
            else:
                out.append(c)
        return out


def load_recipe(path: str | Path) -> Recipe:
    import yaml

    p = Path(path)
    if not p.is_file():
        from toolforge.resources import recipes_dir

        cand = recipes_dir() / (p.name if p.suffix else f"{p.name}.yaml")
        if not str(path).count("/") and cand.is_file():
            p = cand
        else:
            raise InputError(f"recipe file not found: {path}")
    try:
        data = yaml.safe_load(p.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: a recipe is a YAML mapping")
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"{p}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    recipe.path = p
    return recipe
