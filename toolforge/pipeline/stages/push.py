"""Stage 7: publish to the Hub or S3 (``toolforge.hub.push_dataset``); the token comes from HF_TOKEN."""

from __future__ import annotations

from typing import Any

from toolforge.pipeline.runner import StageContext, StageReport


def enabled(recipe: Any) -> bool:
    return getattr(recipe, "push", None) is not None


def config(ctx: StageContext) -> Any:
    return ctx.recipe.push.model_dump()


def preflight(ctx: StageContext) -> None:
    from toolforge.hub.push import check_repo_id, check_s3_url

    repo = ctx.recipe.push.repo
    if repo.startswith("s3://"):
        check_s3_url(repo)
    else:
        check_repo_id(repo)


def run(ctx: StageContext) -> StageReport:
    from toolforge.hub import PushOptions, push_dataset

    sec = ctx.recipe.push
    export = getattr(ctx.recipe, "export", None)
    split = {"test_fraction": export.test_fraction, "seed": export.seed} if export else {}
    if sec.repo.startswith("s3://"):
        opts = PushOptions(to=sec.repo, **split)
    else:
        opts = PushOptions(repo_id=sec.repo, private=sec.private, revision=sec.revision, **split)
    res = push_dataset(ctx.db, opts)
    return StageReport(counts={"rows": dict(res.rows), "published_to": res.published_to or ""}, run_id=res.run_id)
