"""Options of a dedup run (pydantic, shared by the CLI and the library)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from toolforge.dedup.minhash import ENGINES
from toolforge.errors import UsageError
from toolforge.record import SCENARIOS
from toolforge.store.select import STATUSES

METHODS: tuple[str, ...] = ("exact", "near", "semantic")
DEFAULT_THRESHOLDS: dict[str, float] = {"near": 0.8, "semantic": 0.85}


class DedupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["exact", "near", "semantic"]
    threshold: float | None = Field(None, description="near: Jaccard, semantic: cosine; (0, 1]")
    ngram: int = Field(1, ge=1, le=5, description="near: shingles are word n-grams of length 1..ngram")
    num_perm: int = Field(64, ge=8, le=512, description="near: MinHash permutations")
    engine: Literal["duckdb", "datasketch"] = "duckdb"
    against: str | None = None
    status: str = "any"
    scenarios: list[str] | None = None
    batch_size: int = Field(64, ge=1, le=4096, description="semantic: texts per embedding batch")
    dry_run: bool = False

    @field_validator("threshold")
    @classmethod
    def _in_range(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 < v <= 1.0:
            raise ValueError(f"threshold must be greater than 0 and at most 1 (got {v})")
        return v

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        if v not in STATUSES:
            raise ValueError(f"unknown status {v!r} (choose from {', '.join(STATUSES)})")
        return v

    @field_validator("scenarios")
    @classmethod
    def _scenarios(cls, v: list[str] | None) -> list[str] | None:
        for s in v or []:  # 'session' selects multi-turn sessions (scenario None), as the store's Selection does
            if s not in SCENARIOS and s != "session":
                raise ValueError(f"unknown scenario {s!r} (choose from {', '.join(SCENARIOS)}, session)")
        return v or None

    @property
    def effective_threshold(self) -> float:
        if self.threshold is not None:
            return self.threshold
        return DEFAULT_THRESHOLDS.get(self.method, 1.0)


def make_config(**kwargs: Any) -> DedupConfig:
    """Build a config from CLI values; bad values become a one-line UsageError."""
    method = kwargs.get("method")
    if method not in METHODS:
        raise UsageError(f"unknown dedup method {method!r}", hint=f"choose one of: {', '.join(METHODS)}")
    engine = kwargs.get("engine")
    if engine is not None and engine not in ENGINES:
        raise UsageError(f"unknown near-dedup engine {engine!r}", hint=f"choose one of: {', '.join(ENGINES)}")
    if method == "exact" and kwargs.get("threshold") is not None:
        raise UsageError("--threshold applies to the near and semantic methods, not exact")
    try:
        return DedupConfig(**{k: v for k, v in kwargs.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise UsageError(f"{where}: {msg}" if where and where not in msg else msg) from None
