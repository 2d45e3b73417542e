"""Planning: what each generation request asks for (variety, reproducibly).

A job is fully determined by ``(run seed, scenario, job index)``. Request
first (issue #19): a job samples the tools the request should need (its
*callable* tools), then a task seed drawn from those tools' own pools, a
persona, a user style and a system prompt, so that topic, persona and tools fit
each other. Distractors are drawn from the rest of the catalog: in stepwise
mode only after the request exists (tools the request does not need, see
:func:`toolforge.generate.seeds.request_needs`); in one-shot mode before, and
the reply is checked after (a request that needs a distractor is re-asked).

Shapes are bounds, not exact counts: ``turns`` and ``calls`` (per turn) are
``(lo, hi)`` ranges that the scenario allows (parallel: two or more calls in
one turn), and the request decides within them. The same seed gives the same
jobs, so a run is reproducible and a resumed run continues the same sequence.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from toolforge.record import Tool
from toolforge.resources import prompts_dir

# scenario -> (callable tools (lo, hi), distractors (lo, hi))
TOOL_COUNTS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "single_tool": ((1, 1), (1, 3)),
    "multi_tool_parallel": ((1, 3), (0, 2)),
    "multi_tool_sequential": ((2, 3), (0, 2)),
    "no_tool_needed": ((0, 0), (1, 4)),
    "error_recovery": ((1, 1), (0, 2)),
    "reasoning_heavy": ((1, 2), (1, 2)),
    "complex_multi_step": ((3, 4), (0, 2)),
}

# scenario -> (turns (lo, hi), calls per turn (lo, hi)); the request decides within these bounds
SHAPES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "single_tool": ((1, 1), (1, 1)),
    "multi_tool_parallel": ((1, 1), (2, 4)),
    "multi_tool_sequential": ((2, 3), (1, 1)),
    "complex_multi_step": ((3, 4), (1, 2)),
    "reasoning_heavy": ((1, 2), (1, 3)),
    "error_recovery": ((0, 0), (0, 0)),
    "no_tool_needed": ((0, 0), (0, 0)),
}


@dataclass
class Job:
    scenario: str
    index: int
    seed: int
    callable: list[Tool]
    distractors: list[Tool]
    tools: list[Tool]  # offered in the record (callable + distractors, shuffled)
    turns: tuple[int, int] = (1, 1)
    calls: tuple[int, int] = (1, 1)
    recovery: str | None = None  # error_recovery: retry | explain
    persona: str = ""
    style: str = ""
    topic: str = ""  # the task seed, drawn from the callable tools' pools (or the general topics)
    system_prompt: str = ""
    example: int = 0
    candidates: list[Tool] = field(default_factory=list)  # where distractors come from (stepwise: after the request)
    n_distractors: int = 0

    @property
    def key(self) -> str:
        return f"{self.scenario}#{self.index}"

    @property
    def calls_per_turn(self) -> list[int]:
        """The smallest shape within the bounds (kept for callers of the exact-count API)."""
        return [self.calls[0]] * self.turns[0]


@lru_cache(maxsize=1)
def variety() -> dict[str, list[str]]:
    import yaml

    data: dict[str, list[str]] = yaml.safe_load((prompts_dir() / "_shared" / "variety.yaml").read_text("utf-8"))
    return data


def job_seed(run_seed: int, scenario: str, index: int) -> int:
    return zlib.crc32(f"{run_seed}:{scenario}:{index}".encode()) & 0x7FFFFFFF


def weighted_order(tools: list[Tool], weights: dict[str, float], rng: random.Random) -> list[Tool]:
    """``tools`` in a random order where a tool of weight w comes earlier w times as readily
    (Efraimidis-Spirakis keys; weight 1 for tools not named)."""
    keys = [rng.random() ** (1.0 / max(weights.get(t.name, 1.0), 1e-9)) for t in tools]
    return [t for _, t in sorted(zip(keys, tools, strict=True), key=lambda kt: -kt[0])]


def make_job(scenario: str, index: int, run_seed: int, catalog: list[Tool], n_examples: int = 1,
             seeds: dict[str, Any] | None = None, tool_weights: dict[str, float] | None = None) -> Job:
    from toolforge.generate.seeds import load_seeds, tool_tasks

    seeds = seeds if seeds is not None else load_seeds()
    seed = job_seed(run_seed, scenario, index)
    rng = random.Random(seed)
    (c_lo, c_hi), (d_lo, d_hi) = TOOL_COUNTS[scenario]
    pool = list(catalog)
    if tool_weights:
        pool = weighted_order(pool, tool_weights, rng)
    else:
        rng.shuffle(pool)
    n_call = min(rng.randint(c_lo, c_hi), len(pool))
    if scenario != "no_tool_needed":
        n_call = max(1, n_call)
    n_dis = min(rng.randint(d_lo, d_hi), len(pool) - n_call)
    if scenario == "no_tool_needed":
        n_dis = max(1, n_dis)
    callable_tools = pool[:n_call]
    candidates = pool[n_call:]
    distractors = candidates[:n_dis]
    offered = callable_tools + distractors
    rng.shuffle(offered)
    turns, calls = SHAPES[scenario]
    recovery = rng.choices(["retry", "explain"], weights=[3, 1])[0] if scenario == "error_recovery" else None
    if callable_tools and scenario in ("multi_tool_sequential", "complex_multi_step"):
        # one task per step, in the order of the callable tools: the steps of one job that fit together
        topic = ", then ".join(rng.choice(tool_tasks(tool, seeds)) for tool in callable_tools[:turns[1]])
    elif callable_tools:
        tasks = [t for tool in callable_tools for t in tool_tasks(tool, seeds)]
        topic = rng.choice(tasks)
    else:
        topic = rng.choice(seeds["topics"])
    return Job(
        scenario=scenario, index=index, seed=seed, callable=callable_tools, distractors=distractors, tools=offered,
        turns=turns, calls=calls, recovery=recovery, persona=rng.choice(seeds["personas"]),
        style=rng.choice(seeds["user_styles"]), topic=topic, system_prompt=rng.choice(seeds["system_prompts"]),
        example=rng.randrange(max(1, n_examples)), candidates=candidates, n_distractors=n_dis,
    )


def pick_distractors(job: Job, request: str, seeds: dict[str, Any]) -> None:
    """Stepwise: choose the distractors after the request, from the tools it does not need (in place)."""
    from toolforge.generate.seeds import unneeded

    rng = random.Random(job.seed ^ 0xD15)
    free = unneeded(request, job.candidates, seeds)
    job.distractors = free[:job.n_distractors]
    offered = job.callable + job.distractors
    rng.shuffle(offered)
    job.tools = offered


def job_summary(job: Job) -> dict[str, Any]:
    """What goes into a record's ``meta`` about how it was asked for."""
    return {"job": job.index, "seed": job.seed, "persona": job.persona, "style": job.style, "topic": job.topic,
            "distractors": [t.function.name for t in job.distractors]}
