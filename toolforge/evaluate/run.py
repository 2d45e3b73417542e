"""One eval: references + predictions (given, or generated with ``--model``) -> metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from toolforge.errors import InputError, StoreError, UsageError
from toolforge.evaluate.score import MatchMode
from toolforge.io import safejson

log = logging.getLogger(__name__)


class EvalConfig(BaseModel):
    """What ``toolforge eval`` was asked to do (stored with the results)."""

    model_config = ConfigDict(extra="forbid")

    references: Path | None = None       # a records file, or BFCL question files/folder with bfcl=True
    split: str | None = None             # a split of the store (--db)
    db: Path | None = None
    predictions: Path | None = None
    model: str | None = None             # teacher spec that generates the predictions
    family: str | None = None            # parser for raw outputs
    match: MatchMode = "exact"
    matching: Literal["greedy", "maximum"] | None = None  # parallel calls: None = greedy under bfcl, else maximum
    first_turn_only: bool = False
    allow_missing: bool = False
    bfcl: bool = False
    categories: list[str] | None = None  # BFCL categories to score
    include_inconsistent: bool = False
    limit: int | None = None             # score only the first N references (with --model)
    out: Path | None = None              # folder for predictions.jsonl, results.json, turns.jsonl
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    concurrency: int = 4
    model_options: dict[str, Any] = Field(default_factory=dict)  # the --model backend's own options

    @model_validator(mode="after")
    def _check(self) -> EvalConfig:
        if (self.references is None) == (self.split is None):
            raise ValueError("give exactly one of --references FILE and --split NAME")
        if (self.predictions is None) == (self.model is None):
            raise ValueError("give exactly one of --predictions FILE and --model SPEC")
        if self.bfcl and self.split:
            raise ValueError("--bfcl reads BFCL files: use --references with the question files")
        if self.model and self.out is None:
            raise ValueError("--model needs --out DIR (the predictions file is written there)")
        return self


def _family_parser(family: str | None) -> Any:
    from toolforge.evaluate.predictions import get_family_parser

    return get_family_parser(family)


def _load_records(cfg: EvalConfig) -> list[tuple[str, Any]]:
    from toolforge.evaluate.references import load_reference_records

    if cfg.references is not None:
        records = load_reference_records(cfg.references)
    else:
        records = split_records(cfg.db, str(cfg.split))
    return records[: cfg.limit] if cfg.limit else records


def split_records(db: Path | None, split: str) -> list[tuple[str, Any]]:
    """Records of one split of the store, as the latest export or push assigned them."""
    from toolforge.store import Selection, open_store

    if db is None:
        raise UsageError("--split reads the store: pass --db")
    try:
        from toolforge.export import latest_splits
    except ImportError:
        raise UsageError("splits of the store are not available in this install",
                         hint="export the split and pass --references FILE") from None
    with open_store(db, read_only=True) as store:
        assigned = latest_splits(store) if store.has_table("export_runs") else {}
        if not assigned:
            raise InputError(f"{db} has no recorded split",
                             hint="split it first: toolforge export --test-fraction 0.1 ...")
        names = sorted(set(assigned.values()))
        ids = [rid for rid, name in assigned.items() if name == split]
        if not ids:
            raise InputError(f"split {split!r} of {db} holds no records", hint=f"its splits: {', '.join(names)}")
        recs = list(store.iter_records(Selection(ids=ids, include_duplicates=True, latest_revision=False)))
    return [(str(r.id), r) for r in recs]


def _write_outputs(out: Path, result: dict[str, Any], turns: list[dict[str, Any]]) -> None:
    from toolforge.io.jsonl import write_jsonl

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    write_jsonl(out / "turns.jsonl", turns)


def _predictions_path(cfg: EvalConfig, make_tasks: Callable[[], list[Any]]) -> Path:
    """The predictions file to score: ``--predictions``, or (with ``--model``) the one generated now
    from ``make_tasks()`` and written to ``<out>/predictions.jsonl``."""
    if not cfg.model:
        assert cfg.predictions is not None
        return cfg.predictions
    from toolforge.evaluate.predict import generate_predictions
    from toolforge.io.jsonl import write_jsonl

    assert cfg.out is not None
    lines = generate_predictions(cfg.model, make_tasks(), temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                                 seed=cfg.seed, concurrency=cfg.concurrency, teacher_options=cfg.model_options)
    cfg.out.mkdir(parents=True, exist_ok=True)
    pred_path = cfg.out / "predictions.jsonl"
    write_jsonl(pred_path, lines)
    return pred_path


def run_eval(cfg: EvalConfig) -> dict[str, Any]:
    """Score (after generating, with ``model``) and return the results dict."""
    from toolforge.evaluate.predictions import load_predictions

    parser = _family_parser(cfg.family)  # unknown family: fail before any work
    if cfg.db is not None:  # a mistyped --db: "no store at PATH" now, never a new store after the work
        from toolforge.store.db import check_store_path

        if check_store_path(Path(cfg.db)) == "new":
            raise StoreError(f"no store at {cfg.db}", hint="pass --db an existing store, or leave it out")
    if cfg.bfcl:
        return _run_bfcl(cfg, parser)
    from toolforge.evaluate.predict import PredictTask
    from toolforge.evaluate.predictions import resolve
    from toolforge.evaluate.references import align, all_assistant_turns, turns_from_records
    from toolforge.evaluate.score import aggregate, score_turn

    records = _load_records(cfg)
    turns = turns_from_records(records, first_turn_only=cfg.first_turn_only)
    pred_path = _predictions_path(cfg, lambda: [PredictTask(t.id, t.turn, t.context, t.tools) for t in turns])
    preds = load_predictions(pred_path)
    pairs, line_up = align(turns, preds, allow_missing=cfg.allow_missing, known_turns=all_assistant_turns(records))
    scores = [score_turn(t, _unwired(resolve(p, parser), [x.get("function", x)["name"] for x in t.tools]),
                         mode=cfg.match, missing=p is None, matching=cfg.matching or "maximum") for t, p in pairs]
    from toolforge.evaluate.breakdown import by_tool

    result: dict[str, Any] = {"kind": "records", **aggregate(scores), "by_tool": by_tool(scores)}
    result["config"] = _config_summary(cfg, pred_path)
    result["config"]["ignored_predictions"] = line_up["ignored"]
    turn_rows = [s.to_dict() for s in scores]
    if cfg.out:
        _write_outputs(cfg.out, result, turn_rows)
    _save(cfg, result, turn_rows)
    return result


def _save(cfg: EvalConfig, result: dict[str, Any], turns: list[dict[str, Any]]) -> None:
    """With a store (--db), keep the result there too (eval_runs, eval_groups, eval_turns)."""
    if cfg.db is None:
        return
    from toolforge.evaluate.store import save_result
    from toolforge.store import open_store

    with open_store(cfg.db, create=False) as store:
        result["run_id"] = save_result(store, result, turns)


def _run_bfcl(cfg: EvalConfig, parser: Any) -> dict[str, Any]:
    from toolforge.evaluate.bfcl import load_bfcl, score_bfcl
    from toolforge.evaluate.predict import PredictTask
    from toolforge.evaluate.predictions import load_predictions, resolve
    from toolforge.validate.dialect import bfcl_function_to_tool

    assert cfg.references is not None
    entries = load_bfcl([cfg.references], categories=cfg.categories)
    if cfg.limit:
        entries = entries[: cfg.limit]
    pred_path = _predictions_path(cfg, lambda: [
        PredictTask(e.id, None, e.messages, [bfcl_function_to_tool(f) for f in e.functions]) for e in entries])
    preds = load_predictions(pred_path)
    by_id = {e.id: e for e in entries}
    found: dict[str, Any] = {}
    problems: list[str] = []
    ignored = 0
    for p in preds:
        if p.id not in by_id and cfg.categories and _category_or_none(p.id) not in cfg.categories:
            ignored += 1  # an entry of a category not asked for
        elif p.id not in by_id:
            problems.append(f"line {p.line}: no BFCL entry with id {p.id!r}")
        elif p.id in found:
            problems.append(f"line {p.line}: a second prediction for {p.id!r}")
        else:
            found[p.id] = p
    missing = [e.id for e in entries if e.id not in found]
    if missing and not cfg.allow_missing:
        problems.append(f"{len(missing)} of {len(entries)} BFCL entries have no prediction (first: {missing[0]!r})")
    if problems:
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InputError(f"predictions do not line up with the BFCL references: {problems[0]}{more}",
                         hint="--category limits the references; --allow-missing scores absent predictions as empty")
    resolved = {rid: _unwired(resolve(p, parser), list(by_id[rid].docs)) for rid, p in found.items()}
    result = score_bfcl(entries, resolved, include_inconsistent=cfg.include_inconsistent, missing=missing,
                        matching=cfg.matching or "greedy")
    result["config"] = _config_summary(cfg, pred_path)
    result["config"]["ignored_predictions"] = ignored
    if cfg.out:
        failures = result["failures"]
        _write_outputs(cfg.out, {k: v for k, v in result.items() if k != "failures"}, failures)
    _save(cfg, result, [{"id": e.id, "category": e.category} for e in entries])
    return result


def _unwired(res: Any, tool_names: list[str]) -> Any:
    from toolforge.evaluate.predict import unwire_names

    if res.calls:
        res.calls = unwire_names(res.calls, tool_names)
    return res


def _category_or_none(entry_id: str) -> str | None:
    from toolforge.evaluate.bfcl import category_of

    try:
        return category_of(entry_id)
    except InputError:
        return None


def _config_summary(cfg: EvalConfig, pred_path: Path) -> dict[str, Any]:
    """The settings kept with a result (results.json, --json, the store): a model URL's password redacted."""
    from toolforge.redact import redact

    data = cfg.model_dump(mode="json", exclude_none=True)
    data["predictions"] = str(pred_path)
    data["matching"] = cfg.matching or ("greedy" if cfg.bfcl else "maximum")
    return redact(data)


def load_result(path: str | Path, db: Path | None = None) -> dict[str, Any]:
    """An eval result written by ``toolforge eval --out`` (results.json) or ``--json``, or the id
    of an eval run kept in the store ``db``."""
    p = Path(path)
    if db is not None and not p.exists() and str(path).startswith("eval-"):
        from toolforge.evaluate.store import load_run
        from toolforge.store import open_store

        with open_store(db, read_only=True) as store:
            return load_run(store, str(path))
    if p.is_dir():
        p = p / "results.json"
    if not p.exists():
        raise InputError(f"file not found: {p}")
    try:
        data = safejson.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("kind") not in ("records", "bfcl") or "overall" not in data:
        raise InputError(f"{p}: not a toolforge eval result", hint="use the results.json that `toolforge eval --out` writes")
    return data
