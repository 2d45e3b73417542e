"""Stage 5: push to Label Studio and wait; with ``--continue``, pull the verdicts.

The API key comes from ``LABEL_STUDIO_API_KEY`` (or a local server started by
``toolforge review serve``); it is never part of the recipe or the store.
"""

from __future__ import annotations

from typing import Any

from toolforge.pipeline.runner import StageContext, StageReport


def enabled(recipe: Any) -> bool:
    return getattr(recipe, "review", None) is not None


def config(ctx: StageContext) -> Any:
    return ctx.recipe.review.model_dump()


def preflight(ctx: StageContext) -> None:
    from toolforge.errors import UsageError

    url = ctx.recipe.review.url
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"review.url {url!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8080")


def run(ctx: StageContext) -> StageReport:
    from toolforge.review.client import connect
    from toolforge.review.pull import pull
    from toolforge.review.push import push

    sec = ctx.recipe.review
    title = sec.project or ctx.recipe_name
    ls = connect(sec.url)
    with ctx.open() as store:
        if not ctx.options.continue_review:
            res = push(store, ls, project_title=title)
            return StageReport(counts={"pushed": int(getattr(res, "selected", 0))}, waiting=True)
        pulled = pull(store, ls, project_title=title)
    counts = {k: v for k, v in vars(pulled).items() if isinstance(v, (int, float, str))}
    return StageReport(counts=counts)
