"""The recipe runner: stage order, skipping, ``--from``/``--until``, ``--continue``, the funnel."""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from toolforge.errors import ToolforgeError, UsageError
from toolforge.pipeline import state

if TYPE_CHECKING:
    from toolforge.store.db import Store

log = logging.getLogger(__name__)


class StageModule(Protocol):
    """What a stage module in ``toolforge/pipeline/stages/`` provides."""

    def enabled(self, recipe: Any) -> bool: ...

    def config(self, ctx: StageContext) -> Any: ...

    def run(self, ctx: StageContext) -> StageReport: ...


class PipelineOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_stage: str | None = None
    until_stage: str | None = None
    continue_review: bool = False
    scale: float | None = Field(default=None, gt=0)
    count: int | None = Field(default=None, ge=1)   # total records to generate, split by the mixture
    force: bool = False                               # run the selected stages even when done
    teacher: str | None = None                        # override the recipe's teacher spec
    out_dir: Path | None = None                       # where exports go (default: next to the store)


@dataclass
class StageContext:
    """What a stage gets. The store is closed while a stage runs: libraries that take a
    path (generation) open it themselves; others use ``with ctx.open() as store``."""

    db: Path
    recipe: Any
    recipe_name: str
    recipe_path: Path | None
    options: PipelineOptions
    out_dir: Path
    previous: dict[str, state.StageRow] = field(default_factory=dict)

    def open(self, *, read_only: bool = False) -> Any:
        from toolforge.store import open_store

        return open_store(self.db, read_only=read_only)


@dataclass
class StageReport:
    """What a stage returns: its figures, and whether it must wait (review)."""

    counts: dict[str, Any] = field(default_factory=dict)
    waiting: bool = False
    run_id: str | None = None


@dataclass
class StageOutcome:
    stage: str
    status: str                 # ran, skipped, disabled, waiting, not-selected
    counts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class PipelineResult:
    recipe: str
    db: Path
    outcomes: list[StageOutcome]
    funnel: dict[str, int | None]
    waiting_for_review: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe, "db": str(self.db), "waiting_for_review": self.waiting_for_review,
            "stages": [{"stage": o.stage, "status": o.status, "counts": o.counts, "seconds": round(o.seconds, 2)}
                       for o in self.outcomes],
            "funnel": self.funnel,
        }


def stage_module(name: str) -> StageModule:
    from toolforge.pipeline import STAGES

    if name not in STAGES:
        raise UsageError(f"unknown stage {name!r}", hint=f"choose one of: {', '.join(STAGES)}")
    return importlib.import_module(f"toolforge.pipeline.stages.{name}")  # type: ignore[return-value]


def selected_stages(options: PipelineOptions) -> list[str]:
    from toolforge.pipeline import STAGES

    for given in (options.from_stage, options.until_stage):
        if given is not None and given not in STAGES:
            raise UsageError(f"unknown stage {given!r}", hint=f"choose one of: {', '.join(STAGES)}")
    lo = STAGES.index(options.from_stage) if options.from_stage else 0
    hi = STAGES.index(options.until_stage) if options.until_stage else len(STAGES) - 1
    if lo > hi:
        raise UsageError(f"--from {options.from_stage} comes after --until {options.until_stage}")
    return list(STAGES[lo:hi + 1])


def run_pipeline(db: Path, recipe: Any, *, recipe_name: str, options: PipelineOptions | None = None,
                 recipe_path: Path | None = None, stages: dict[str, StageModule] | None = None) -> PipelineResult:
    """Run the recipe's stages against the store at ``db``; see the module docstring.

    ``stages`` replaces the stage modules (unit tests of the runner's logic).
    """
    from toolforge.pipeline import STAGES
    from toolforge.store import open_store

    db = Path(db)
    options = options or PipelineOptions()
    selected = selected_stages(options)
    out_dir = options.out_dir or db.parent / f"{db.stem}-export"
    ctx = StageContext(db=db, recipe=recipe, recipe_name=recipe_name, recipe_path=recipe_path,
                       options=options, out_dir=out_dir)
    modules = stages or {name: stage_module(name) for name in STAGES}
    # Check every selected stage's inputs (catalogs, teacher spec, formats, ...) before the
    # store is opened, so that bad input never changes it.
    for name in selected:
        check = getattr(modules[name], "preflight", None)
        if check is not None and modules[name].enabled(recipe):
            check(ctx)
    outcomes: list[StageOutcome] = []
    waiting = False
    for i, name in enumerate(STAGES):
        mod = modules[name]
        if name not in selected or waiting:
            outcomes.append(StageOutcome(name, "not-selected" if not waiting else "blocked"))
            continue
        if not mod.enabled(recipe):
            outcomes.append(StageOutcome(name, "disabled"))
            continue
        sha = state.config_sha(mod.config(ctx))
        with open_store(db) as store:
            row = state.get_stage(store, recipe_name, name)
            if row and row.status == "done" and row.config_sha == sha and not options.force:
                outcomes.append(StageOutcome(name, "skipped", row.counts))
                continue
            if row and row.status == "waiting" and row.config_sha == sha and not options.continue_review:
                outcomes.append(StageOutcome(name, "waiting", row.counts))
                waiting = True
                continue
            state.invalidate(store, recipe_name, list(STAGES[i + 1:]))
            state.mark_running(store, recipe_name, name, sha)
            ctx.previous = state.all_stages(store, recipe_name)
        log.info("stage %s: running", name)
        t0 = time.monotonic()
        try:
            report = mod.run(ctx)
        except BaseException as exc:
            why = exc.message if isinstance(exc, ToolforgeError) else type(exc).__name__
            with open_store(db) as store:
                state.mark_failed(store, recipe_name, name, sha, why)
            raise
        seconds = time.monotonic() - t0
        with open_store(db) as store:
            if report.waiting:
                state.mark_waiting(store, recipe_name, name, sha, report.counts)
                outcomes.append(StageOutcome(name, "waiting", report.counts, seconds))
                waiting = True
                continue
            state.mark_done(store, recipe_name, name, sha, report.counts, run_id=report.run_id)
        outcomes.append(StageOutcome(name, "ran", report.counts, seconds))
        log.info("stage %s: done in %.1f s %s", name, seconds, _short(report.counts))
    with open_store(db) as store:
        figures = funnel(store, recipe_name, recipe, modules)
    return PipelineResult(recipe=recipe_name, db=db, outcomes=outcomes, funnel=figures, waiting_for_review=waiting)


def _short(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in counts.items() if isinstance(v, (int, float, str)))


def _count(store: Store, **sel: Any) -> int:
    from toolforge.store.select import Selection

    return len(store.select_ids(Selection(**sel)))


def funnel(store: Store, recipe_name: str, recipe: Any = None,
           modules: dict[str, StageModule] | None = None) -> dict[str, int | None]:
    """generated, valid, unique, voiced, accepted, exported: counted from the store.

    A figure is ``None`` when its stage is not part of the recipe.
    """
    def on(name: str) -> bool:
        if modules is None or recipe is None:
            return True
        return bool(modules[name].enabled(recipe))

    out: dict[str, int | None] = {}
    out["generated"] = _count(store, include_duplicates=True, latest_revision=False) - _count(
        store, include_duplicates=True, latest_revision=False, ids=_review_revisions(store))
    out["valid"] = _count(store, status="valid", include_duplicates=True)
    out["unique"] = _count(store, status="valid")
    out["voiced"] = _voiced(store) if on("tts") else None
    out["accepted"] = _count(store, status="accepted") if on("review") else None
    export_row = state.get_stage(store, recipe_name, "export")
    out["exported"] = int(export_row.counts.get("exported", 0)) if export_row and export_row.status == "done" else (
        0 if on("export") else None)
    return out


def _review_revisions(store: Store) -> list[str]:
    return [r[0] for r in store.con.execute("SELECT id FROM records WHERE source = 'review'").fetchall()]


def _voiced(store: Store) -> int:
    if not store.has_table("audio"):
        return 0
    from toolforge.store.select import Selection, selection_sql

    where, params = selection_sql(Selection(status="curated"), store)
    row = store.con.execute(
        f"SELECT count(*) FROM records r WHERE {where} AND EXISTS "
        "(SELECT 1 FROM audio a WHERE a.record_id = r.id)", params).fetchone()
    return int(row[0]) if row else 0


def default_store_path(recipe_path: Path) -> Path:
    """Where ``toolforge run`` keeps a recipe's store unless ``--db`` says otherwise."""
    return recipe_path.parent / "out" / f"{recipe_path.stem}.duckdb"
