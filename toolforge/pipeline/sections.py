"""The recipe sections the pipeline reads after generation (all optional).

They are plain pydantic models (``extra="forbid"``) that ``toolforge.recipe``
includes as optional fields: ``validation``, ``dedup``, ``tts``, ``review``,
``export`` and ``push``. A missing section turns its stage off, except
validation, which always runs (its defaults are the schema checks plus the
execution check).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidateSection(_Section):
    check_scenario: bool = True
    execution: bool = True                         # run the execution check (safe registered tools only)
    workers: int = Field(0, ge=0)                  # processes for the schema checks (0: one per core); same results


DedupMethod = Literal["exact", "near", "semantic"]
Role = Literal["user", "assistant"]


def _default_methods() -> list[DedupMethod]:
    return ["exact", "near"]


def _default_roles() -> list[Role]:
    return ["user", "assistant"]


class DedupSection(_Section):
    methods: list[DedupMethod] = Field(default_factory=_default_methods, min_length=1)
    threshold: float | None = Field(default=None, gt=0, le=1)   # near/semantic similarity threshold


class TTSSection(_Section):
    engine: str = "espeak"
    voices: list[str] | None = None                # engine voice names; None = the engine's default pool
    roles: list[Role] = Field(default_factory=_default_roles, min_length=1)
    sample_rate: int = Field(default=24000, ge=8000, le=48000)
    asr_check: bool = False
    seed: int = 0


class ReviewSection(_Section):
    url: str = "http://127.0.0.1:8080"             # Label Studio; the key comes from LABEL_STUDIO_API_KEY
    project: str | None = None                     # project title (default: the recipe name)
    min_annotations: int = Field(default=1, ge=1)


class ExportSection(_Section):
    formats: list[str] = Field(default_factory=lambda: ["openai"], min_length=1)
    test_fraction: float = Field(default=0.1, ge=0, lt=1)
    seed: int = 0
    tool_markup: Literal["tag", "lfm2", "action"] = "tag"
    out: str | None = None                         # folder (relative to the recipe); default next to the store


class PushSection(_Section):
    repo: str = Field(min_length=3)                # owner/name on the Hub, or an s3:// url
    private: bool = True
    revision: str | None = None
