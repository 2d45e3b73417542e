"""``toolforge experiment``: the card's kind of ablation, trained and scored the same way.

A recipe's ``experiment:`` section names data variants (records of the store's train split
chosen by status, plus extra files such as a targeted run's export); each variant trains
one LoRA adapter with the same ``train:`` settings and is scored on the same held-out
records with the same parser family. The base model can be scored too (``baseline``).
The result is one comparison table (``experiment.json``, ``experiment.md``) and an HTML
page with charts (``experiment.html``).

.. code-block:: yaml

    experiment:
      held_out: test                 # a split of the store, or a records/export file
      family: hermes
      baseline: true
      eval: {limit: 200, max_tokens: 256}
      variants:
        - {name: unfiltered, status: any}
        - {name: curated, status: curated}
        - {name: curated+targeted, status: curated, extra: [targeted/train.parquet]}
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolforge.errors import InputError
from toolforge.record import Record
from toolforge.store.select import Status
from toolforge.train.config import TrainConfig, TrainSection

log = logging.getLogger(__name__)


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.+-]+$")
    status: Status = "curated"
    scenarios: list[str] | None = None
    extra: list[str] = Field(default_factory=list, description="more training records: export or records files")
    limit: int | None = Field(default=None, ge=1)


class EvalPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(default=None, ge=1)
    max_tokens: int = Field(default=256, ge=1)
    batch_size: int = Field(default=8, ge=1)
    first_turn_only: bool = False


class ExperimentSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_out: str = "test"
    train_split: str = "train"
    family: str | None = "hermes"
    baseline: bool = True
    eval: EvalPart = Field(default_factory=EvalPart)
    variants: list[Variant] = Field(min_length=1)


def _records_file(path: Path, records: list[Record]) -> Path:
    from toolforge.io.jsonl import write_jsonl

    path.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(path, [r.model_dump(mode="json", exclude_none=True) for r in records])
    return path


def _split_ids(store: Any, split: str) -> list[str]:
    from toolforge.export import latest_splits

    assigned = latest_splits(store) if store.has_table("export_runs") else {}
    ids = [rid for rid, name in assigned.items() if name == split]
    if not ids:
        raise InputError(f"the store has no records in split {split!r}",
                         hint="export once with --test-fraction to fix the splits the experiment compares on")
    return ids


def _variant_records(db: Path, exp: ExperimentSection, v: Variant, base: Path) -> list[Record]:
    from toolforge.evaluate.references import load_reference_records
    from toolforge.store import Selection, open_store

    with open_store(db, read_only=True) as store:
        ids = _split_ids(store, exp.train_split)
        recs = list(store.iter_records(Selection(ids=ids, status=v.status, scenarios=v.scenarios)))
    for extra in v.extra:
        p = Path(extra) if Path(extra).is_absolute() else base / extra
        recs.extend(r for _, r in load_reference_records(p))
    return recs[: v.limit] if v.limit else recs


def _held_out(db: Path, exp: ExperimentSection, base: Path, out: Path) -> Path:
    cand = Path(exp.held_out) if Path(exp.held_out).is_absolute() else base / exp.held_out
    if cand.is_file():
        return cand
    from toolforge.evaluate.run import split_records

    return _records_file(out / "held_out.jsonl", [r for _, r in split_records(db, exp.held_out)])


def _score(model: str, refs: Path, exp: ExperimentSection, out: Path, options: dict[str, Any]) -> dict[str, Any]:
    from toolforge.evaluate.run import EvalConfig, run_eval

    cfg = EvalConfig(references=refs, model=model, family=exp.family, out=out, limit=exp.eval.limit,
                     max_tokens=exp.eval.max_tokens, concurrency=exp.eval.batch_size,
                     first_turn_only=exp.eval.first_turn_only, model_options=options)
    return run_eval(cfg)


def run_experiment(db: Path, exp: ExperimentSection, train: TrainSection, out: Path, *, base: Path) -> dict[str, Any]:
    """Train and score every variant (and the base model); write the comparison. Each variant's
    folder is reused when it already holds a finished result (a rerun picks up where it stopped)."""
    from toolforge.train.run import train_model

    out.mkdir(parents=True, exist_ok=True)
    refs = _held_out(db, exp, base, out)
    options = {"batch_size": exp.eval.batch_size, "device": train.device}
    if train.chat_template:
        options["chat_template"] = train.chat_template
    rows: list[dict[str, Any]] = []
    if exp.baseline:
        done = out / "base" / "eval" / "results.json"
        res = json.loads(done.read_text()) if done.is_file() else \
            _score(f"hf:{train.base_model}", refs, exp, out / "base" / "eval", options)
        rows.append({"variant": "base", "records": 0, "result": res})
    for v in exp.variants:
        vdir = out / v.name
        done = vdir / "eval" / "results.json"
        if done.is_file() and (vdir / "toolforge_train.json").is_file():
            summary = json.loads((vdir / "toolforge_train.json").read_text())
            res = json.loads(done.read_text())
        else:
            recs = _variant_records(db, exp, v, base)
            if not recs:
                raise InputError(f"variant {v.name!r} selects no training records")
            data = _records_file(vdir / "train_records.jsonl", recs)
            t0 = time.perf_counter()
            summary = train_model(TrainConfig(**train.model_dump(), data=data, out=vdir))
            log.info("variant %s: trained on %d records in %.0f s", v.name, len(recs), time.perf_counter() - t0)
            res = _score(f"hf:{vdir}", refs, exp, vdir / "eval", {k: o for k, o in options.items() if k != "chat_template"})
        rows.append({"variant": v.name, "records": summary.get("records"), "train": summary, "result": res})
    table = comparison(rows)
    (out / "experiment.json").write_text(json.dumps({"held_out": str(refs), "rows": table}, indent=2) + "\n")
    (out / "experiment.md").write_text(markdown_table(table))
    (out / "experiment.html").write_text(html_page(table))
    return {"held_out": str(refs), "rows": table, "out": str(out)}


COLUMNS = ("f1", "precision", "recall", "json_validity", "argument_correctness", "no_tool_accuracy", "exact_match")


def comparison(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per variant: overall metrics, per-scenario F1, training records and final loss."""
    table = []
    for r in rows:
        res = r["result"]
        train = r.get("train") or {}
        table.append({"variant": r["variant"], "records": r.get("records") or 0,
                      "last_loss": train.get("last_loss"), "turns": res["overall"]["counts"]["turns"],
                      **{c: res["overall"].get(c) for c in COLUMNS},
                      "f1_by_scenario": {s: g.get("f1") for s, g in res.get("by_scenario", {}).items()}})
    return table


def _fmt(v: Any) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def markdown_table(table: list[dict[str, Any]]) -> str:
    head = ["variant", "records", "last loss", "turns", *COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table:
        lines.append("| " + " | ".join(_fmt(r[k]) for k in ("variant", "records", "last_loss", "turns", *COLUMNS)) + " |")
    scen = sorted({s for r in table for s in r["f1_by_scenario"]})
    if scen:
        lines += ["", "F1 by scenario:", "", "| variant | " + " | ".join(scen) + " |", "|" + "---|" * (len(scen) + 1)]
        for r in table:
            lines.append(f"| {r['variant']} | " + " | ".join(_fmt(r["f1_by_scenario"].get(s)) for s in scen) + " |")
    return "\n".join(lines) + "\n"


def html_page(table: list[dict[str, Any]]) -> str:
    from html import escape

    from toolforge.report.svg import hbar

    charts = [hbar(f"exp-{m}", f"{m} by variant", [(r["variant"], r[m] or 0.0) for r in table], max_value=1.0)
              for m in ("f1", "json_validity", "exact_match")]
    scen = sorted({s for r in table for s in r["f1_by_scenario"]})
    charts.append(hbar("exp-f1-scenario", "F1 by scenario and variant",
                       [(f"{s} · {r['variant']}", r["f1_by_scenario"].get(s) or 0.0) for s in scen for r in table],
                       max_value=1.0, label_width=320))
    body = "<pre>" + escape(markdown_table(table)) + "</pre>" + "".join(charts)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>toolforge experiment</title>"
            "<style>body{font-family:sans-serif;margin:2em} .label,.value{font-size:12px}</style></head>"
            f"<body><h1>toolforge experiment</h1>{body}</body></html>\n")
