"""The runner's own logic (skipping, invalidation, --from/--until, review waits) with
scripted stage modules; the real stages are driven in tests/integration/test_run_*.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from toolforge.errors import UsageError
from toolforge.pipeline import STAGES, PipelineOptions, run_pipeline
from toolforge.pipeline.runner import StageReport
from toolforge.store import open_store


class Scripted:
    def __init__(self, name, calls, *, enabled=True, wait=False, fail=False):
        self.name, self.calls, self._enabled, self.wait, self.fail = name, calls, enabled, wait, fail
        self.cfg = {"v": 1}

    def enabled(self, recipe):
        return self._enabled

    def config(self, ctx):
        return self.cfg

    def run(self, ctx):
        self.calls.append(self.name)
        if self.fail:
            raise UsageError(f"{self.name} broke")
        if self.wait and not ctx.options.continue_review:
            return StageReport(counts={"pushed": 3}, waiting=True)
        return StageReport(counts={"n": len(self.calls)})


def _mods(calls, **kw):
    return {s: Scripted(s, calls, **kw.get(s, {})) for s in STAGES}


def _run(db, mods, **opts):
    return run_pipeline(db, SimpleNamespace(), recipe_name="r", options=PipelineOptions(**opts), stages=mods)


def test_second_run_skips_everything(tmp_db):
    calls: list[str] = []
    mods = _mods(calls)
    first = _run(tmp_db, mods)
    assert calls == list(STAGES)
    assert [o.status for o in first.outcomes] == ["ran"] * len(STAGES)
    second = _run(tmp_db, mods)
    assert calls == list(STAGES)
    assert [o.status for o in second.outcomes] == ["skipped"] * len(STAGES)


def test_changed_config_reruns_that_stage_and_every_later_one(tmp_db):
    calls: list[str] = []
    mods = _mods(calls)
    _run(tmp_db, mods)
    calls.clear()
    mods["dedup"].cfg = {"v": 2}
    _run(tmp_db, mods)
    assert calls == ["dedup", "tts", "review", "export", "push"]


def test_from_until_and_disabled(tmp_db):
    calls: list[str] = []
    mods = _mods(calls, tts={"enabled": False})
    res = _run(tmp_db, mods, from_stage="validate", until_stage="export")
    assert calls == ["validate", "dedup", "review", "export"]
    status = {o.stage: o.status for o in res.outcomes}
    assert status["generate"] == "not-selected" and status["push"] == "not-selected" and status["tts"] == "disabled"


def test_review_waits_until_continue(tmp_db):
    calls: list[str] = []
    mods = _mods(calls, review={"wait": True})
    res = _run(tmp_db, mods)
    assert res.waiting_for_review and calls[-1] == "review" and "export" not in calls
    calls.clear()
    res = _run(tmp_db, mods)  # still waiting: nothing runs, review is not pushed again
    assert calls == [] and res.waiting_for_review
    res = _run(tmp_db, mods, continue_review=True)
    assert calls == ["review", "export", "push"] and not res.waiting_for_review


def test_failed_stage_is_recorded_and_rerun(tmp_db):
    calls: list[str] = []
    mods = _mods(calls, dedup={"fail": True})
    with pytest.raises(UsageError):
        _run(tmp_db, mods)
    with open_store(tmp_db, read_only=True) as store:
        row = store.con.execute("SELECT status, error FROM pipeline_stages WHERE stage = 'dedup'").fetchone()
    assert row == ("failed", "dedup broke")
    mods["dedup"].fail = False
    calls.clear()
    _run(tmp_db, mods)
    assert calls == ["dedup", "tts", "review", "export", "push"]


@pytest.mark.parametrize("opts", [{"from_stage": "polish"}, {"from_stage": "push", "until_stage": "generate"}])
def test_bad_stage_range(tmp_db, opts):
    with pytest.raises(UsageError):
        _run(tmp_db, _mods([]), **opts)


def test_validation_workers_change_no_stage_config():
    """``validation: {workers: N}`` sets how many processes judge, which changes no result: a run resumed
    with another count does not validate again; a negative count is refused."""
    from pydantic import ValidationError

    from toolforge.pipeline.sections import ValidateSection
    from toolforge.pipeline.stages import validate

    def cfg(**kw):
        return validate.config(SimpleNamespace(recipe=SimpleNamespace(validation=ValidateSection(**kw))))

    assert cfg(workers=4) == cfg() == cfg(workers=1)
    assert cfg(check_scenario=False) != cfg()
    with pytest.raises(ValidationError):
        ValidateSection(workers=-1)
