"""Stage 3: mark duplicates with each of the recipe's methods (``toolforge.dedup.run.run_dedup``)."""

from __future__ import annotations

from typing import Any

from toolforge.pipeline.runner import StageContext, StageReport


def enabled(recipe: Any) -> bool:
    return getattr(recipe, "dedup", None) is not None


def config(ctx: StageContext) -> Any:
    return ctx.recipe.dedup.model_dump()


def preflight(ctx: StageContext) -> None:
    from toolforge.dedup.config import make_config

    sec = ctx.recipe.dedup
    for method in sec.methods:
        make_config(method=method, threshold=sec.threshold if method != "exact" else None, status="valid")


def run(ctx: StageContext) -> StageReport:
    from toolforge.dedup.config import make_config
    from toolforge.dedup.run import run_dedup

    sec = ctx.recipe.dedup
    counts: dict[str, Any] = {}
    with ctx.open() as store:
        if store.count_records() == 0:
            return StageReport(counts={"records": 0})
        for method in sec.methods:
            cfg = make_config(method=method, threshold=sec.threshold if method != "exact" else None,
                              status="valid")
            try:
                res = run_dedup(store, cfg)
            except Exception as exc:  # no valid records left to compare is not a failure
                if type(exc).__name__ == "InputError" and "no records" in str(exc):
                    counts[method] = 0
                    continue
                raise
            counts[method] = res.marked
        from toolforge.store.select import Selection

        counts["unique"] = len(store.select_ids(Selection(status="valid")))
    return StageReport(counts=counts)
