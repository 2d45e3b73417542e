"""Stage 1: generate the recipe's scenario mixture (``toolforge.generate.generate``).

The generation run is named ``pipeline:<recipe>``, so a re-entered stage (after a
crash, or with a larger ``--scale``) resumes the same run and tops it up to the
targets; the generation library writes in batches keyed by content id.
"""

from __future__ import annotations

from typing import Any

from toolforge.pipeline.runner import StageContext, StageReport


def enabled(recipe: Any) -> bool:
    return getattr(recipe, "generate", None) is not None


def targets(ctx: StageContext) -> dict[str, int]:
    gen = ctx.recipe.generate
    opts = ctx.options
    if opts.count is not None:
        return gen.targets(opts.count)
    if opts.scale is not None:
        if gen.total is not None:
            return gen.targets(max(1, round(gen.total * opts.scale)))
        base = gen.targets()
        return {s: max(1, round(n * opts.scale)) if n else 0 for s, n in base.items()}
    return gen.targets()


def generate_config(ctx: StageContext) -> Any:
    from toolforge.backends import DEFAULT_TEACHER
    from toolforge.generate.config import GenerateConfig

    gen = ctx.recipe.generate
    extra = {k: getattr(gen, k) for k in ("seed", "max_attempts", "concurrency", "temperature", "max_tokens",
                                          "tool_weights", "meaning_checks", "min_rounds", "max_rounds")
             if getattr(gen, k, None) is not None}
    catalogs = ctx.recipe.resolve_catalogs() if hasattr(ctx.recipe, "resolve_catalogs") else list(gen.catalogs)
    return GenerateConfig(targets={s: n for s, n in targets(ctx).items() if n > 0},
                          teacher=ctx.options.teacher or gen.teacher or DEFAULT_TEACHER,
                          teacher_options=dict(gen.teacher_options), catalogs=catalogs,
                          teachers=_fleet(getattr(gen, "teachers", None)) if not ctx.options.teacher else [],
                          run_name=f"pipeline:{ctx.recipe_name}", **extra)


def _fleet(items: Any) -> list[dict[str, Any]]:
    from toolforge.backends.fleet import endpoint_dicts

    return endpoint_dicts(items) if items else []


def preflight(ctx: StageContext) -> None:
    """Scenarios, counts, catalogs and the teacher spec, checked without a store or a network."""
    from pydantic import ValidationError

    from toolforge.backends import split_spec
    from toolforge.catalog import load_catalogs
    from toolforge.errors import UsageError

    try:
        cfg = generate_config(ctx)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"generate.{'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    if cfg.total == 0:
        raise UsageError("the recipe asks for no records", hint="give the scenarios counts, or a --count")
    split_spec(cfg.teacher)
    load_catalogs(list(cfg.catalogs))


def config(ctx: StageContext) -> Any:
    cfg = generate_config(ctx)
    return {"targets": cfg.targets, "teacher": cfg.teacher, "catalogs": cfg.catalogs, "seed": cfg.seed}


def run(ctx: StageContext) -> StageReport:
    from toolforge.generate.runner import generate

    summary = generate(ctx.db, generate_config(ctx))
    counts = {"target": sum(summary.targets.values()), "stored": sum(summary.stored.values()),
              "new": summary.new_this_session, "failures": dict(summary.failures)}
    return StageReport(counts=counts, run_id=summary.run_id)
