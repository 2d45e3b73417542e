"""Planning: what each generation request asks for (variety, reproducibly).

A job is fully determined by ``(run seed, scenario, job index)``: it samples
the callable tools and the distractors (offered in the record, absent from the
schema, so the conversation cannot call them), a persona, a user style, a
topic, a system prompt, a few-shot example, and the number of turns/calls the
scenario allows. The same seed gives the same jobs, so a run is reproducible
and a resumed run continues the same sequence.
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
    "single_tool": ((1, 2), (1, 3)),
    "multi_tool_parallel": ((1, 2), (0, 2)),
    "multi_tool_sequential": ((2, 3), (0, 2)),
    "no_tool_needed": ((0, 0), (1, 4)),
    "error_recovery": ((1, 1), (0, 2)),
    "reasoning_heavy": ((1, 2), (1, 2)),
    "complex_multi_step": ((3, 4), (0, 2)),
}


@dataclass
class Job:
    scenario: str
    index: int
    seed: int
    callable: list[Tool]
    distractors: list[Tool]
    tools: list[Tool]  # offered in the record (callable + distractors, shuffled)
    calls_per_turn: list[int] = field(default_factory=list)
    recovery: str | None = None  # error_recovery: retry | explain
    persona: str = ""
    style: str = ""
    topic: str = ""
    system_prompt: str = ""
    example: int = 0

    @property
    def key(self) -> str:
        return f"{self.scenario}#{self.index}"


@lru_cache(maxsize=1)
def variety() -> dict[str, list[str]]:
    import yaml

    data: dict[str, list[str]] = yaml.safe_load((prompts_dir() / "_shared" / "variety.yaml").read_text("utf-8"))
    return data


def job_seed(run_seed: int, scenario: str, index: int) -> int:
    return zlib.crc32(f"{run_seed}:{scenario}:{index}".encode()) & 0x7FFFFFFF


def _shape(scenario: str, rng: random.Random, n_callable: int) -> tuple[list[int], str | None]:
    if scenario == "single_tool":
        return [1], None
    if scenario == "multi_tool_parallel":
        return [rng.randint(2, 3)], None
    if scenario == "multi_tool_sequential":
        return [1] * rng.randint(2, 3), None
    if scenario == "complex_multi_step":
        return [1] * rng.randint(3, 4), None
    if scenario == "reasoning_heavy":
        return [1] * rng.randint(1, 2), None
    if scenario == "error_recovery":
        return [], rng.choices(["retry", "explain"], weights=[3, 1])[0]
    return [], None


def make_job(scenario: str, index: int, run_seed: int, catalog: list[Tool], n_examples: int = 1) -> Job:
    seed = job_seed(run_seed, scenario, index)
    rng = random.Random(seed)
    (c_lo, c_hi), (d_lo, d_hi) = TOOL_COUNTS[scenario]
    pool = list(catalog)
    rng.shuffle(pool)
    n_call = min(rng.randint(c_lo, c_hi), len(pool))
    if scenario != "no_tool_needed":
        n_call = max(1, n_call)
    n_dis = min(rng.randint(d_lo, d_hi), len(pool) - n_call)
    if scenario == "no_tool_needed":
        n_dis = max(1, n_dis)
    callable_tools = pool[:n_call]
    distractors = pool[n_call:n_call + n_dis]
    offered = callable_tools + distractors
    rng.shuffle(offered)
    calls_per_turn, recovery = _shape(scenario, rng, n_call)
    v = variety()
    return Job(
        scenario=scenario, index=index, seed=seed, callable=callable_tools, distractors=distractors, tools=offered,
        calls_per_turn=calls_per_turn, recovery=recovery, persona=rng.choice(v["personas"]),
        style=rng.choice(v["user_styles"]), topic=rng.choice(v["topics"]),
        system_prompt=rng.choice(v["system_prompts"]), example=rng.randrange(max(1, n_examples)),
    )


def job_summary(job: Job) -> dict[str, Any]:
    """What goes into a record's ``meta`` about how it was asked for."""
    return {"job": job.index, "seed": job.seed, "persona": job.persona, "style": job.style, "topic": job.topic,
            "distractors": [t.function.name for t in job.distractors]}
