"""Stage 2: schema validation, then the execution check (``toolforge.validate.validate_store``)."""

from __future__ import annotations

from typing import Any

from toolforge.pipeline.runner import StageContext, StageReport
from toolforge.pipeline.sections import ValidateSection


def section(recipe: Any) -> ValidateSection:
    return getattr(recipe, "validation", None) or ValidateSection()


def enabled(recipe: Any) -> bool:
    return True


def config(ctx: StageContext) -> Any:
    return section(ctx.recipe).model_dump(exclude={"workers"})  # how many processes judge changes no result


def run(ctx: StageContext) -> StageReport:
    sec = section(ctx.recipe)
    with ctx.open() as store:
        return _run(store, sec)


def _run(store: Any, sec: ValidateSection) -> StageReport:
    from toolforge.store.select import Selection
    from toolforge.validate import validate_store

    everything = Selection(status="any", include_duplicates=True, latest_revision=False)
    schema = validate_store(store, everything, stage="schema", check_scenario=sec.check_scenario,
                            workers=sec.workers)
    counts: dict[str, Any] = {"checked": schema.records, "schema_ok": schema.ok, "schema_failed": schema.failed,
                              "codes": dict(schema.codes)}
    if sec.execution:
        # Only records that passed the schema checks reach the execution check.
        ok_ids = store.select_ids(Selection(status="valid", include_duplicates=True, latest_revision=False))
        exe = validate_store(store, Selection(ids=ok_ids, include_duplicates=True, latest_revision=False),
                             stage="execution")
        counts.update({"execution_ok": exe.ok, "execution_failed": exe.failed})
        for code, n in exe.codes.items():
            counts["codes"][code] = counts["codes"].get(code, 0) + n
    counts["valid"] = len(store.select_ids(Selection(status="valid", include_duplicates=True)))
    return StageReport(counts=counts)
