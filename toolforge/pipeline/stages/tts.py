"""Stage 4: paired audio for the curated records (``toolforge.audio.run.run_tts``)."""

from __future__ import annotations

from typing import Any

from toolforge.pipeline.runner import StageContext, StageReport


def enabled(recipe: Any) -> bool:
    return getattr(recipe, "tts", None) is not None


def config(ctx: StageContext) -> Any:
    return ctx.recipe.tts.model_dump()


def preflight(ctx: StageContext) -> None:
    from toolforge.audio.engines import get_engine

    get_engine(ctx.recipe.tts.engine)  # unknown or unavailable engine: fail before the store changes


def run(ctx: StageContext) -> StageReport:
    from toolforge.audio.run import TTSConfig, run_tts
    from toolforge.store.select import Selection

    sec = ctx.recipe.tts
    cfg = TTSConfig(engine=sec.engine, voices=sec.voices, sample_rate=sec.sample_rate, asr_check=sec.asr_check,
                    replies="per-turn" if "assistant" in sec.roles else "none", seed=sec.seed)
    with ctx.open() as store:
        summary = run_tts(store, Selection(status="curated"), cfg)
    counts = {"records": summary.records, "turns": summary.turns, "synthesised": summary.synthesised,
              "skipped_existing": summary.skipped_existing, "failed": summary.failed,
              "qc_failed": summary.qc_failed, "seconds_audio": round(summary.seconds_audio, 1)}
    return StageReport(counts=counts, run_id=summary.run_id)
