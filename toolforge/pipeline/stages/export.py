"""Stage 6: write every export format of the recipe (``toolforge.export.export_dataset``).

Each format goes to ``<out>/<format>/``; the split seed and test fraction come
from the recipe, so a re-run writes the same files (atomic renames).
"""

from __future__ import annotations

from typing import Any

from toolforge.pipeline.runner import StageContext, StageReport


def enabled(recipe: Any) -> bool:
    return getattr(recipe, "export", None) is not None


def config(ctx: StageContext) -> Any:
    return {**ctx.recipe.export.model_dump(), "out_dir": str(ctx.out_dir)}


def preflight(ctx: StageContext) -> None:
    from toolforge.export import get_format
    from toolforge.export.convert import THINK_MODES  # noqa: F401  (the export library is importable)

    for fmt in ctx.recipe.export.formats:
        get_format(fmt)  # an unknown or unavailable format fails before anything is written
    if ctx.out_dir.exists() and not ctx.out_dir.is_dir():
        from toolforge.errors import InputError

        raise InputError(f"export folder {ctx.out_dir} exists and is not a folder")


def run(ctx: StageContext) -> StageReport:
    import logging

    from toolforge.export import ExportOptions, NoRecordsToExport, export_dataset

    sec = ctx.recipe.export
    counts: dict[str, Any] = {"formats": {}}
    exported = 0
    with ctx.open() as store:
        for fmt in sec.formats:
            try:
                res = export_dataset(store, ExportOptions(format=fmt, out=ctx.out_dir / fmt, seed=sec.seed,
                                                          test_fraction=sec.test_fraction,
                                                          tool_markup=sec.tool_markup))
            except NoRecordsToExport as exc:
                # nothing passed validation (a smoke-test teacher, say): the funnel shows 0, not a crash
                logging.getLogger(__name__).warning("export: %s; nothing exported", exc)
                counts["note"] = str(exc)
                break
            n = sum(int(v.get("n", 0)) if isinstance(v, dict) else int(v) for v in res.splits.values())
            counts["formats"][fmt] = {"records": n, "files": len(res.files)}
            exported = max(exported, n)
    counts["exported"] = exported
    counts["out"] = str(ctx.out_dir)
    return StageReport(counts=counts)
