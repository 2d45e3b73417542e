"""Export the store to training formats, with seeded scenario-stratified splits.

A format is one module here with ``write(ctx, split, records) -> list[Path]``
plus one line in :data:`FORMATS`. The registry remembers what a format needs
(an optional dependency, or another area's module) and says why it is
unavailable instead of failing deep inside an export.

Library use::

    from toolforge.export import ExportOptions, export_dataset
    with open_store("toolforge.duckdb") as store:
        result = export_dataset(store, ExportOptions(format="trl", out=Path("out"), test_fraction=0.1))
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from toolforge.errors import InputError, MissingExtraError, UsageError
from toolforge.export.base import ExportContext, gc_paused
from toolforge.export.convert import DEFAULT_THINK, THINK_MODES
from toolforge.export.splits import dedup_clusters, split_records, split_summary
from toolforge.record import Record
from toolforge.store.select import Selection

if TYPE_CHECKING:
    from toolforge.store import Store

log = logging.getLogger(__name__)

MANIFEST = "export.json"  # what an export wrote into --out (see toolforge.export.manifest)


@dataclass(frozen=True)
class FormatSpec:
    name: str
    module: str
    description: str
    requires: tuple[str, ...] = ()        # distributions (checked with importlib.metadata)
    extra: str | None = None              # the toolforge extra that installs them
    needs_module: str | None = None       # another area's module the format calls


FORMATS: dict[str, FormatSpec] = {
    "openai": FormatSpec("openai", "toolforge.export.openai",
                         "JSON Lines {messages, tools}, arguments as JSON strings (OpenAI fine-tuning)"),
    "trl": FormatSpec("trl", "toolforge.export.trl",
                      "Parquet with messages/tools columns for TRL SFTTrainer and apply_chat_template",
                      requires=("datasets", "pyarrow"), extra="hub"),
    "sharegpt": FormatSpec("sharegpt", "toolforge.export.sharegpt",
                           "JSON Lines {conversations: [{from, value}], system, tools}"),
    "hermes": FormatSpec("hermes", "toolforge.export.hermes",
                         "JSON Lines {text}: Hermes <tool_call> ChatML rendering",
                         needs_module="toolforge.formats"),
    "lfm2-audio": FormatSpec("lfm2-audio", "toolforge.export.lfm2_audio",
                             "{audio, transcript, response, response_audio} lines plus audio files",
                             requires=("soundfile",), extra="tts", needs_module="toolforge.audio.lfm2"),
}


def unavailable_reason(name: str) -> str | None:
    """Why format ``name`` cannot run here (``None`` when it can)."""
    spec = FORMATS[name]
    for dist in spec.requires:
        try:
            importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return f"needs {dist}: pip install 'toolforge[{spec.extra}]'"
    if spec.needs_module:
        try:
            importlib.import_module(spec.needs_module)
        except ModuleNotFoundError as exc:
            if exc.name and spec.needs_module.startswith(exc.name):
                return f"needs {spec.needs_module}, which this toolforge build does not have"
            raise
    return None


def get_format(name: str) -> Any:
    """The module implementing format ``name`` (UsageError / MissingExtraError otherwise)."""
    if name not in FORMATS:
        raise UsageError(f"unknown export format {name!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    why = unavailable_reason(name)
    if why:
        spec = FORMATS[name]
        if spec.extra and why.startswith("needs ") and "pip install" in why:
            raise MissingExtraError(f"export format {name!r}", extra=spec.extra)
        raise UsageError(f"export format {name!r} is not available: {why}")
    return importlib.import_module(FORMATS[name].module)


class ExportOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str
    out: Path
    test_fraction: float = Field(0.0, ge=0.0, lt=1.0)
    seed: int = 0
    think: str = DEFAULT_THINK
    tool_markup: str = "tag"
    selection: Selection = Field(default_factory=lambda: Selection(status="curated"))
    chat_template: Path | None = None      # keep only records this model template can render
    template_name: str | None = None


@dataclass
class ExportResult:
    format: str
    out: Path
    run_id: str
    files: list[Path] = field(default_factory=list)
    splits: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)    # left out by the format, per reason code
    excluded: dict[str, int] = field(default_factory=dict)   # left out by --chat-template, per issue code

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "out": str(self.out), "run_id": self.run_id,
                "files": [str(p) for p in self.files], "splits": self.splits,
                "skipped": self.skipped, "excluded": self.excluded}


def keep_renderable(records: list[Record], chat_template: Path, *, think: str,
                    template_name: str | None = None) -> tuple[list[Record], dict[str, int]]:
    """The records a model's chat template can render (``toolforge.chat_template``), and the others per issue code."""
    from toolforge.chat_template import load_chat_template, renderable

    kept, excluded = renderable(load_chat_template(chat_template), records,
                                think=think, template_name=template_name)
    if not kept:
        raise InputError(f"no selected record can be rendered by {chat_template} "
                         f"({', '.join(f'{k}: {v}' for k, v in sorted(excluded.items()))})",
                         hint="check one with `toolforge render --chat-template ...`")
    log.info("--chat-template kept %d of %d records", len(kept), len(records))
    return kept, excluded


class NoRecordsToExport(InputError):
    """The selection holds no record (e.g. none passed validation)."""


@gc_paused()  # bulk decoding: see toolforge.export.base.gc_paused
def select_records(store: Store, selection: Selection | None = None, *, plain: bool = False) -> list[Record]:
    """The records to export (default: curated), or an InputError when there are none.

    ``plain=True`` gives :class:`~toolforge.export.base.PlainRecord` objects decoded straight
    from the stored JSON (no model per record), for writers that declare ``PLAIN = True``.
    """
    sel = selection or Selection(status="curated")
    if plain:
        from toolforge.export.base import plain_records

        records: list[Any] = plain_records(store, sel)
    else:
        records = list(store.iter_records(sel))
    if not records:
        raise NoRecordsToExport(
            f"no records to export (selection: status={sel.status}"
            + (f", scenarios={','.join(sel.scenarios)}" if sel.scenarios else "") + ")",
            hint="validate first (`toolforge validate`), or choose another --status such as 'any'",
        )
    return records


@gc_paused()  # while every selected record is held: see toolforge.export.base.gc_paused
def make_splits(store: Store, records: list[Record], *, test_fraction: float, seed: int) -> dict[str, list[Record]]:
    clusters = dedup_clusters(store) if test_fraction > 0 else {}
    return split_records(records, test_fraction=test_fraction, seed=seed, clusters=clusters)


def record_export(store: Store, *, run_id: str, kind: str, fmt: str, target: str,
                  splits: dict[str, list[Record]], seed: int, test_fraction: float,
                  revision: str | None = None, commit_oid: str | None = None) -> None:
    """Remember which record went to which split (``export_runs``/``export_splits``)."""
    n = sum(len(v) for v in splits.values())
    with store.transaction() as con:
        con.execute(
            "INSERT INTO export_runs (run_id, kind, format, target, revision, commit_oid, seed, test_fraction, "
            "n_records) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, kind, fmt, target, revision, commit_oid, seed, test_fraction, n])
        ids = [r.id for recs in splits.values() for r in recs]
        names = [name for name, recs in splits.items() for _ in recs]
        if ids:  # one statement over list parameters: executemany is far slower in DuckDB
            con.execute("INSERT INTO export_splits (run_id, record_id, split) "
                        "SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[])", [run_id, ids, names])


def latest_splits(store: Store) -> dict[str, str]:
    """``record_id -> split`` of the most recent export or push (e.g. to find the held-out set)."""
    row = store.con.execute("SELECT run_id FROM export_runs ORDER BY created_at DESC LIMIT 1").fetchone()
    if not row:
        return {}
    return dict(store.con.execute("SELECT record_id, split FROM export_splits WHERE run_id = ?", [row[0]]).fetchall())


@gc_paused()  # holds every selected record while writing: see toolforge.export.base.gc_paused
def export_dataset(store: Store, options: ExportOptions) -> ExportResult:
    """Write the selected records in ``options.format`` under ``options.out``, one file set per split.

    Files go through :class:`toolforge.export.manifest.OutputDir`: written to a temporary folder
    first, then moved into place; a file toolforge did not write (per ``export.json``) is never
    replaced or deleted, and files of an earlier export that this one does not write are removed.
    """
    from toolforge.export.manifest import OutputDir

    if options.think not in THINK_MODES:
        raise UsageError(f"unknown --think mode {options.think!r}", hint=f"choose one of: {', '.join(THINK_MODES)}")
    module = get_format(options.format)
    out = options.out
    target = OutputDir(out, MANIFEST)  # --out that is a file: refused before anything is read or written
    plain = bool(getattr(module, "PLAIN", False)) and options.chat_template is None
    records = select_records(store, options.selection, plain=plain)
    excluded: dict[str, int] = {}
    if options.chat_template is not None:
        records, excluded = keep_renderable(records, options.chat_template, think=options.think,
                                            template_name=options.template_name)
    splits = make_splits(store, records, test_fraction=options.test_fraction, seed=options.seed)
    summary = split_summary(splits)
    with target.staging() as tmp:
        ctx = ExportContext(store=store, out_dir=tmp, think=options.think, tool_markup=options.tool_markup)
        written: list[Path] = []
        for name, recs in splits.items():
            if recs:
                written.extend(module.write(ctx, name, recs))
        target.check(tmp, written)  # a clash with a user's file fails here, before the store is written
        with store.run("export", config=options.model_dump(mode="json")) as run_id:
            manifest = {"format": options.format, "run_id": run_id, "seed": options.seed,
                        "test_fraction": options.test_fraction, "think": options.think, "splits": summary,
                        "skipped": ctx.skipped}
            if options.chat_template is not None:
                manifest["chat_template"] = {"path": str(options.chat_template), "excluded": excluded}
            files = target.commit(tmp, written, manifest)
            record_export(store, run_id=run_id, kind="export", fmt=options.format, target=str(out), splits=splits,
                          seed=options.seed, test_fraction=options.test_fraction)
    log.info("exported %d records as %s to %s", len(records), options.format, out)
    return ExportResult(format=options.format, out=out, run_id=run_id, files=files, splits=summary,
                        skipped=dict(ctx.skipped), excluded=excluded)
