"""Whole-pipeline runs from a recipe (``toolforge run datasets/NAME.yaml``).

The stages, in order: generate, validate, dedup, tts, review, export, push.
Each one is a module in ``toolforge/pipeline/stages/`` that calls the library
of its area (never the CLI) and returns its figures. The runner records each
stage in the store's ``pipeline_stages`` table (see :mod:`.state`), so a stage
that is done with the same configuration is skipped, a crashed stage is
re-entered (every stage is itself resumable), and a stage that runs again
makes every later stage run again. Review pushes to Label Studio and then
stops the run until ``toolforge run --continue``.
"""

from __future__ import annotations

STAGES: tuple[str, ...] = ("generate", "validate", "dedup", "tts", "review", "export", "push")

from toolforge.pipeline.runner import (  # noqa: E402
    PipelineOptions,
    PipelineResult,
    StageOutcome,
    funnel,
    run_pipeline,
)

__all__ = ["STAGES", "PipelineOptions", "PipelineResult", "StageOutcome", "funnel", "run_pipeline"]
