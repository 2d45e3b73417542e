"""The dataset card: YAML metadata (huggingface_hub's ``DatasetCardData``) and a body
rendered from ``card.md.j2`` with numbers read from the store.

Nothing from the environment goes into the card; run configs are filtered for
anything that looks like a credential before they are shown.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolforge.record import Record
from toolforge.store.select import Selection

if TYPE_CHECKING:
    from toolforge.store import Store

TEMPLATE = Path(__file__).with_name("card.md.j2")
_SECRETISH = re.compile(r"key|token|secret|password|auth|credential", re.IGNORECASE)
REASONING_NOTES = {
    "field": "`reasoning_content` field",
    "tags": "`content`, inside `<think>...</think>`",
    "drop": "nowhere: reasoning was dropped",
}


def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return label
    return "n>10M"


def _pct(num: int, den: int) -> str:
    return f"{100.0 * num / den:.1f}%" if den else "-"


def _count(store: Store, sel: Selection) -> int:
    return len(store.select_ids(sel))


def scenario_rows(store: Store, splits: dict[str, list[Record]]) -> list[dict[str, Any]]:
    counts = Counter(r.scenario or "-" for recs in splits.values() for r in recs)
    total = sum(counts.values())
    rows = []
    for scen, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        params = [scen]
        v = store.con.execute(
            "SELECT count(DISTINCT r.id), count(DISTINCT r.id) FILTER (WHERE NOT EXISTS (SELECT 1 FROM validations x "
            "WHERE x.record_id = r.id AND NOT x.ok)) FROM records r JOIN validations v ON v.record_id = r.id "
            "WHERE r.scenario = ?", params).fetchone()
        rv = store.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE rv.verdict = 'accept') FROM records r "
            "JOIN review_verdicts rv ON rv.record_id = r.id WHERE r.scenario = ?", params).fetchone()
        rows.append({"name": scen, "count": n, "share": _pct(n, total),
                     "pass_rate": _pct(v[1], v[0]) if v else "-", "acceptance": _pct(rv[1], rv[0]) if rv else "-"})
    return rows


def funnel(store: Store, n_published: int) -> list[dict[str, Any]]:
    row = store.con.execute("SELECT count(*) FROM review_verdicts").fetchone()
    reviewed = bool(row and row[0])
    rows = [
        {"stage": "generated or imported", "n": _count(store, Selection(include_duplicates=True))},
        {"stage": "valid", "n": _count(store, Selection(status="valid", include_duplicates=True))},
        {"stage": "valid, after dedup", "n": _count(store, Selection(status="valid"))},
    ]
    if reviewed:
        rows.append({"stage": "accepted in review", "n": _count(store, Selection(status="accepted"))})
    rows.append({"stage": "in this dataset", "n": n_published})
    return rows


def tool_rows(records: list[Record]) -> list[dict[str, Any]]:
    descs: dict[str, str] = {}
    calls: Counter[str] = Counter()
    for r in records:
        for t in r.tools:
            descs.setdefault(t.function.name, t.function.description)
        calls.update(c.name for c in r.calls)
    return [{"name": n, "description": " ".join((descs[n] or "-").split()).replace("|", "\\|"), "calls": calls[n]}
            for n in sorted(descs)]


def _clean_settings(cfg: Any) -> str:
    if not isinstance(cfg, dict):
        return "-"
    keep = {k: v for k, v in cfg.items() if not _SECRETISH.search(str(k)) and not isinstance(v, (dict, list))}
    return ", ".join(f"{k}={v}" for k, v in sorted(keep.items())) or "-"


def teacher_rows(store: Store, records: list[Record]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    teachers = Counter(str(r.meta["teacher"]) for r in records if r.meta.get("teacher"))
    ids = [r.id for r in records]
    gen: list[dict[str, str]] = []
    if ids:
        placeholders = ", ".join("?" for _ in ids)
        for run_id, cfg in store.con.execute(
                f"SELECT DISTINCT ru.id, ru.config FROM records r JOIN runs ru ON ru.id = r.run_id "
                f"WHERE r.id IN ({placeholders}) AND ru.kind = 'generate' ORDER BY ru.id", ids).fetchall():
            try:
                parsed = json.loads(cfg) if isinstance(cfg, str) else cfg
            except json.JSONDecodeError:
                parsed = None
            gen.append({"run": run_id, "settings": _clean_settings(parsed)})
    return ([{"name": n, "n": c} for n, c in teachers.most_common()], gen)


def audio_summary(audio: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    clips = [a for rows in audio.values() for a in rows]
    voices = Counter((str(a.get("engine") or "-"), str(a.get("voice") or "-")) for a in clips)
    seconds = sum(float(a.get("duration_s") or 0.0) for a in clips)
    rates = sorted({int(a["sample_rate"]) for a in clips if a.get("sample_rate")})
    return {"clips": len(clips), "hours": f"{seconds / 3600:.3f}", "seconds": f"{seconds:.1f}",
            "sample_rates": ", ".join(f"{r} Hz" for r in rates) or "sample rate unknown",
            "voices": [{"engine": e, "voice": v, "n": n} for (e, v), n in voices.most_common()]}


def _features_yaml(has_audio: bool) -> list[dict[str, Any]]:
    """The staged Parquet schema as the Hub's ``dataset_info.features`` list."""
    from datasets import Audio, List  # type: ignore[attr-defined]  # mypy sees the repo's datasets/ folder
    from toolforge.hub.stage import _features

    feats = _features(has_audio)
    if has_audio:
        feats["audio"] = List(Audio())
    return list(feats._to_yaml_list())


def configs_and_info(splits: dict[str, list[Record]], has_audio: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``configs`` (default: every row; one per scenario) and ``dataset_info`` with split sizes.

    The staged shards are ``data/<split>-<scenario>-NNNNN-of-NNNNN.parquet`` (toolforge.hub.stage)."""
    from toolforge.hub.stage import group_by_scenario

    names = [s for s, recs in splits.items() if recs]
    features = _features_yaml(has_audio)
    configs: list[dict[str, Any]] = [{"config_name": "default", "default": True,
                                      "data_files": [{"split": s, "path": f"data/{s}-*"} for s in names]}]
    infos: list[dict[str, Any]] = [{"config_name": "default", "features": features,
                                    "splits": [{"name": s, "num_examples": len(splits[s])} for s in names]}]
    per_split = {s: group_by_scenario(splits[s]) for s in names}
    for scen in sorted({sc for groups in per_split.values() for sc in groups}):
        have = [s for s in names if scen in per_split[s]]
        configs.append({"config_name": scen, "data_files": [{"split": s, "path": f"data/{s}-{scen}-*"} for s in have]})
        infos.append({"config_name": scen, "features": copy.deepcopy(features),  # no YAML anchors
                      "splits": [{"name": s, "num_examples": len(per_split[s][scen])} for s in have]})
    return configs, infos


def _shorten(value: Any, limit: int = 400) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f"... ({len(value) - limit} more characters)"
    if isinstance(value, dict):
        return {k: _shorten(v, limit) for k, v in value.items() if not _SECRETISH.search(str(k))}
    if isinstance(value, list):
        return [_shorten(v, limit) for v in value]
    return value


def example_row(record: Record, *, think: str, audio: list[dict[str, Any]] | None, has_audio: bool) -> str:
    """One row as ``load_dataset`` returns it (long strings shortened, audio bytes summarised)."""
    from toolforge.export.convert import chat_messages

    row: dict[str, Any] = {"id": record.id, "scenario": record.scenario, "messages": chat_messages(record, think=think),
                           "tools": record.tools_dump(), "meta": record.meta}
    if has_audio:
        clips = audio or []
        row["audio"] = [{"bytes": f"<{a.get('path', 'clip')}: WAV bytes>", "path": str(a.get("path", "")).rsplit("/", 1)[-1]}
                        for a in clips]
        row["audio_turns"] = [int(a["turn"]) for a in clips]
        row["audio_roles"] = [str(a["role"]) for a in clips]
    return json.dumps(_shorten(row), indent=2, ensure_ascii=False)


def build_card(store: Store, splits: dict[str, list[Record]], *, repo_id: str, license: str = "apache-2.0",
               language: list[str] | None = None, audio: dict[str, list[dict[str, Any]]] | None = None,
               test_fraction: float = 0.0, seed: int = 0, think: str = "tags",
               selection: Selection | None = None) -> str:
    """The README.md text of the dataset card."""
    from datetime import datetime, timezone

    from huggingface_hub import DatasetCard, DatasetCardData
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    records = [r for recs in splits.values() for r in recs]
    names = [s for s, recs in splits.items() if recs]
    audio = {k: v for k, v in (audio or {}).items() if v}
    has_audio = bool(audio)
    configs, infos = configs_and_info(splits, has_audio)
    data = DatasetCardData(
        license=license, language=language or ["en"], pretty_name=repo_id.split("/")[-1],
        task_categories=["text-generation"] + (["automatic-speech-recognition", "text-to-speech"] if has_audio else []),
        tags=["tool-calling", "function-calling", "synthetic", "toolforge"] + (["audio"] if has_audio else []),
        size_categories=[size_category(len(records))],
        annotations_creators=["machine-generated"], language_creators=["machine-generated"],
        multilinguality="monolingual" if len(language or ["en"]) == 1 else "multilingual",
        source_datasets=["original"],
        configs=configs, dataset_info=infos,
    )
    sel = selection or Selection(status="curated")
    note = (f"The published records are the store's `{sel.status}` selection"
            + (" (accepted when any review exists, otherwise valid)" if sel.status == "curated" else "")
            + (", latest revision only" if sel.latest_revision else "")
            + (", duplicates removed." if not sel.include_duplicates else "."))
    teachers, gen = teacher_rows(store, records)
    audio_split = next((s for s in names if any(audio.get(r.id or "") for r in splits[s])), None)
    n_voiced = sum(1 for r in records if audio.get(r.id or ""))
    first = splits[names[0]][0] if names else None
    reviewed = store.con.execute("SELECT count(DISTINCT record_id) FROM review_verdicts").fetchone()
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    body = env.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        title=repo_id.split("/")[-1], repo_id=repo_id, n_total=len(records),
        splits=[{"name": s, "n": len(splits[s])} for s in names],
        configs=[{"name": c["config_name"], "splits": {i["name"]: i["num_examples"] for i in info["splits"]}}
                 for c, info in zip(configs, infos, strict=True)],
        scenarios=scenario_rows(store, splits), funnel=funnel(store, len(records)), selection_note=note,
        test_fraction=test_fraction, test_pct=f"{100 * test_fraction:.0f}%", seed=seed,
        tools=tool_rows(records), teachers=teachers, generation=gen, has_audio=has_audio,
        audio=audio_summary(audio), audio_split=audio_split, n_voiced=n_voiced,
        reasoning_key=REASONING_NOTES.get(think, think), think=think,
        n_reasoning=sum(1 for r in records if any(m.reasoning for m in r.messages)),
        example=example_row(first, think=think, audio=audio.get(first.id or ""), has_audio=has_audio) if first else "{}",
        example_split=names[0] if names else "train",
        n_reviewed=int(reviewed[0]) if reviewed else 0,
        license=license, languages=", ".join(language or ["en"]), year=datetime.now(timezone.utc).year,
        cite_key=re.sub(r"[^A-Za-z0-9]+", "_", repo_id).strip("_").lower() or "dataset",
        namespace=repo_id.split("/")[0] if "/" in repo_id else "the dataset's authors",
    )
    card = DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body}")
    return str(card)
