"""The configuration of a generation run (what ``toolforge generate`` and recipes build)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from toolforge.backends import DEFAULT_TEACHER
from toolforge.record import SCENARIOS

SESSION = "session"  # the target key (and attempt rows' scenario) of multi-turn sessions; their records' scenario is None
MULTI_TURN = "multi_turn"  # the scenario name that asks for sessions (``--scenario multi_turn``, a recipe's scenarios)


class GenerateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: dict[str, int] = Field(description="accepted records wanted, per scenario")
    teacher: str = DEFAULT_TEACHER
    teacher_options: dict[str, Any] = Field(default_factory=dict)
    teachers: list[dict[str, Any]] = Field(default_factory=list, description="a fleet: endpoints of one teacher "
                                           "({spec, weight, concurrency, options}); see toolforge.backends.fleet")
    catalogs: list[str] = Field(default_factory=lambda: ["smol-tools"])
    seed: int | None = None
    concurrency: int = Field(default=8, ge=1, le=4096)
    max_attempts: int = Field(default=3, ge=1, le=20, description="teacher replies per job (re-asks included)")
    max_retries: int = Field(default=6, ge=0, le=50, description="transport retries per request")
    backoff_base: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)
    temperature: float = Field(default=0.7, ge=0, le=2)
    max_tokens: int = Field(default=1024, ge=16)
    max_failed_jobs: int | None = Field(default=None, ge=0, description="stop after this many jobs gave up")
    flush_every: int = Field(default=256, ge=1)
    flush_seconds: float = Field(default=1.0, gt=0)
    run_name: str | None = None
    mode: Literal["auto", "oneshot", "stepwise", "session"] = Field(
        default="auto", description="stepwise: request, calls, environment results, answer as separate steps; "
                                    "oneshot: one reply per record (fast); session: multi-turn sessions of a "
                                    "simulated user (targets {'session': N}, see toolforge.generate.session); "
                                    "auto: see resolved_mode")
    min_rounds: int = Field(default=5, ge=3, le=20, description="session: fewest user rounds a stored session has")
    max_rounds: int = Field(default=8, ge=3, le=20, description="session: most user rounds of a session")
    seeds: str | None = Field(default=None, description="a YAML file of persona/topic/task pools merged over the packaged ones")
    mock: str | None = Field(default=None, description="a Python module whose functions answer tool calls (stepwise)")
    run_safe_tools: bool = Field(default=True, description="stepwise: run calculate/get_current_datetime for real")
    meaning_checks: bool | None = Field(default=None, description="the accept step runs the meaning checks (grounding, "
                                        "provenance); False: form only (schema, arguments, scenario shape); None: on, "
                                        "except for the packaged smoke-test model")
    tool_weights: dict[str, float] = Field(default_factory=dict, description="prefer these tools in a job's tool "
                                           "subset (weight 1 for the others); written by `toolforge gaps`")

    @property
    def resolved_mode(self) -> str:
        """``auto``: stepwise for real teachers; one-shot for ``fake:`` and the packaged smoke-test model
        (SmolLM2-135M: right structure, weak content; stepwise asks it about four times per record)."""
        if self.mode != "auto":
            return self.mode
        t = self.teacher
        smoke = t == "llamacpp:" or "smollm2" in t.lower()
        return "oneshot" if t.startswith("fake:") or smoke else "stepwise"

    @property
    def resolved_meaning_checks(self) -> bool:
        """``None``: on, except for the packaged SmolLM2-135M (a smoke-test teacher: right structure,
        weak content; it copies the few-shot examples, so with meaning checks it makes almost no record).
        ``toolforge validate`` afterwards applies every check and the funnel shows the honest count."""
        if self.meaning_checks is not None:
            return self.meaning_checks
        t = self.teacher
        return not (t == "llamacpp:" or "smollm2" in t.lower())

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: dict[str, int]) -> dict[str, int]:
        if not v:
            raise ValueError("no scenario to generate")
        for s, n in v.items():
            if s not in SCENARIOS and s != SESSION:
                raise ValueError(f"unknown scenario {s!r} (choose from {', '.join(SCENARIOS)})")
            if n < 0:
                raise ValueError(f"{s}: a count cannot be negative")
        return v

    @model_validator(mode="before")
    @classmethod
    def _multi_turn(cls, data: Any) -> Any:
        """``{"multi_turn": N}`` is ``{"session": N}`` in session mode."""
        if isinstance(data, dict) and isinstance(data.get("targets"), dict) and MULTI_TURN in data["targets"]:
            data = {**data, "targets": {SESSION if k == MULTI_TURN else k: v for k, v in data["targets"].items()}}
            if data.get("mode") in (None, "auto"):
                data["mode"] = "session"
        return data

    @model_validator(mode="after")
    def _session(self) -> GenerateConfig:
        if (SESSION in self.targets) != (self.mode == "session") or (self.mode == "session" and len(self.targets) > 1):
            raise ValueError(f"sessions are generated alone: mode 'session' with targets {{'{SESSION}': N}}")
        if self.min_rounds > self.max_rounds:
            raise ValueError(f"min_rounds ({self.min_rounds}) is more than max_rounds ({self.max_rounds})")
        return self

    @property
    def total(self) -> int:
        return sum(self.targets.values())

    def public(self) -> dict[str, Any]:
        """What is stored with the run: credentials (a teacher URL's password, keys in options) redacted."""
        from toolforge.redact import redact

        return redact(self.model_dump(mode="json"))
