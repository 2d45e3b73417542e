"""Publish the curated dataset: stage (Parquet shards + card), then push to the Hub or S3.

Library use::

    from toolforge.hub import PushOptions, push_dataset
    result = push_dataset("toolforge.duckdb", PushOptions(repo_id="me/my-tools", test_fraction=0.1))

Staging never needs a token or network; ``dry_run`` stops there and the folder
loads with ``datasets.load_dataset(DIR)``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolforge.errors import InputError, UsageError
from toolforge.export.convert import DEFAULT_THINK, THINK_MODES
from toolforge.store.select import Selection

log = logging.getLogger(__name__)


class PushOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo_id: str | None = None
    private: bool = True                       # a new Hub repo is private unless --public
    force: bool = False                        # stage into a folder holding files toolforge did not write
    revision: str | None = None
    dry_run: bool = False
    stage_dir: Path | None = None
    to: str | None = None                      # s3://bucket/prefix instead of the Hub
    test_fraction: float = Field(0.0, ge=0.0, lt=1.0)
    seed: int = 0
    think: str = DEFAULT_THINK
    license: str = "apache-2.0"
    language: list[str] = Field(default_factory=lambda: ["en"])
    selection: Selection = Field(default_factory=lambda: Selection(status="curated"))
    commit_message: str = "Upload dataset with toolforge"


@dataclass
class PushResult:
    stage_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    published_to: str | None = None
    url: str | None = None
    commit_oid: str | None = None
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"stage_dir": str(self.stage_dir), "rows": self.rows, "published_to": self.published_to,
                "url": self.url, "commit_oid": self.commit_oid, "run_id": self.run_id}


def _check(options: PushOptions) -> None:
    from toolforge.hub.push import check_repo_id, check_s3_url

    if options.think not in THINK_MODES:
        raise UsageError(f"unknown --think mode {options.think!r}", hint=f"choose one of: {', '.join(THINK_MODES)}")
    if options.to and options.repo_id:
        raise UsageError("give either a repo id or --to s3://..., not both")
    if options.to:
        check_s3_url(options.to)
    elif options.repo_id:
        check_repo_id(options.repo_id)
    elif not options.dry_run:
        raise UsageError("no destination", hint="give a repo id (namespace/name) or --to s3://bucket/prefix")
    if options.revision is not None and (not options.revision.strip() or " " in options.revision):
        raise UsageError(f"invalid --revision {options.revision!r}")
    if options.stage_dir is not None and options.stage_dir.exists() and not options.stage_dir.is_dir():
        raise InputError(f"--stage-dir {options.stage_dir} exists and is not a folder")


def push_dataset(db: str | Path, options: PushOptions) -> PushResult:
    """Stage the selected records and publish them (unless ``dry_run``)."""
    from toolforge.export import make_splits, select_records
    from toolforge.hub.card import build_card
    from toolforge.hub.push import hub_token, publish_hub, publish_s3
    from toolforge.hub.stage import audio_by_record, stage_dataset
    from toolforge.store import open_store

    _check(options)
    from toolforge.export.trl import require_datasets_json

    require_datasets_json()
    token = hub_token() if (options.repo_id and not options.to and not options.dry_run) else None
    target = options.to or options.repo_id or "staging"
    stage_dir = options.stage_dir or Path(tempfile.mkdtemp(prefix="toolforge-stage-"))
    temporary = options.stage_dir is None
    try:
        with open_store(db, create=False) as store:  # a mistyped --db is "no store at PATH", never a new store
            records = select_records(store, options.selection, plain=True)  # staging reads the stored JSON
            splits = make_splits(store, records, test_fraction=options.test_fraction, seed=options.seed)
            audio = audio_by_record(store, [r.id for r in records if r.id])
            card = build_card(store, splits,
                              repo_id=options.repo_id or target.rstrip("/").split("/")[-1] or "dataset",
                              license=options.license, language=options.language, audio=audio,
                              test_fraction=options.test_fraction, seed=options.seed, think=options.think,
                              selection=options.selection)
            stage_dir.mkdir(parents=True, exist_ok=True)
            staged = stage_dataset(store, splits, stage_dir, card_text=card, think=options.think,
                                   force=options.force)
    except BaseException:
        if temporary:  # no temporary folder left behind by a refused or failed staging
            shutil.rmtree(stage_dir, ignore_errors=True)
        raise
    files = [p.relative_to(stage_dir).as_posix() for p in staged.files]  # the allow-list: exactly what was staged
    result = PushResult(stage_dir=stage_dir, rows=staged.rows)
    if options.dry_run:
        _remember(db, "stage", str(stage_dir), splits, options, result)
        return result
    try:
        if options.to:
            pub = publish_s3(stage_dir, options.to, files=files)
        else:
            assert options.repo_id is not None and token is not None
            pub = publish_hub(stage_dir, options.repo_id, token=token, files=files, private=options.private,
                              revision=options.revision, commit_message=options.commit_message)
    finally:
        if temporary:
            shutil.rmtree(stage_dir, ignore_errors=True)
    result.published_to, result.url, result.commit_oid = target, pub.url, pub.commit_oid
    _remember(db, "s3" if options.to else "push", target, splits, options, result)
    return result


def _remember(db: str | Path, kind: str, target: str, splits: dict, options: PushOptions, result: PushResult) -> None:
    from toolforge.export import record_export
    from toolforge.store import open_store

    with open_store(db, create=False) as store:
        cfg = options.model_dump(mode="json", exclude={"selection"})
        run_id = store.create_run(kind, config=cfg)
        record_export(store, run_id=run_id, kind=kind, fmt="hub", target=target, splits=splits,
                      seed=options.seed, test_fraction=options.test_fraction, revision=options.revision,
                      commit_oid=result.commit_oid)
        store.set_run_status(run_id, "done")
    result.run_id = run_id
