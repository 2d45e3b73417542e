"""Decontamination: mark records too close to an evaluation set (``--against``).

The reference is a JSON Lines (or JSON array) file, or a folder of them (every
``*.json``/``*.jsonl`` directly inside, e.g. ``../shared/bfcl``). An item gives
its user text through any of: ``messages`` (toolforge/OpenAI records),
``question`` (BFCL: a list of turns of messages), ``conversations`` (ShareGPT)
or ``query`` (xLAM). Methods:

- exact: the normalised first user request is equal (or the record's content id is);
- near: MinHash/LSH + Jaccard over all user turns, at the near threshold;
- semantic: cosine similarity of sentence embeddings, at the semantic threshold.

Matches go to ``dedup_contamination`` (record, reference, method, closest item,
score); each matched record gets one ``against`` row in ``dedup_marks`` (its best
match over every reference checked), so later stages skip it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from toolforge.dedup.minhash import load_docs, near_pairs, norm_sql
from toolforge.dedup.run import FIRST_USER_SQL, SCOPE, USER_TEXT_SQL, DedupResult, build_scope
from toolforge.errors import InputError
from toolforge.io import safejson

if TYPE_CHECKING:
    from toolforge.dedup.config import DedupConfig
    from toolforge.store.db import Store

log = logging.getLogger(__name__)


@dataclass
class RefItem:
    id: str
    user_turns: list[str]
    content_id: str | None = None

    @property
    def first_user(self) -> str:
        return self.user_turns[0] if self.user_turns else ""


def _user_turns(item: dict[str, Any]) -> list[str]:
    if isinstance(item.get("messages"), list):
        return [str(m.get("content") or "") for m in item["messages"] if isinstance(m, dict) and m.get("role") == "user"]
    q = item.get("question")
    if isinstance(q, str):
        return [q]
    if isinstance(q, list):
        flat: list[Any] = []
        for turn in q:
            flat.extend(turn if isinstance(turn, list) else [turn])
        return [str(m.get("content") or "") for m in flat if isinstance(m, dict) and m.get("role") == "user"]
    if isinstance(item.get("conversations"), list):
        return [str(m.get("value") or "") for m in item["conversations"]
                if isinstance(m, dict) and m.get("from") in ("human", "user")]
    if isinstance(item.get("query"), str):
        return [item["query"]]
    return []


def _content_id(item: dict[str, Any]) -> str | None:
    if not isinstance(item.get("messages"), list):
        return None
    from pydantic import ValidationError

    from toolforge.record import Record

    try:
        return Record.model_validate({k: item[k] for k in ("tools", "messages") if k in item}).id
    except ValidationError:
        return None


def _read_items(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = safejson.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from None
        return [d for d in data if isinstance(d, dict)]
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = safejson.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
        if isinstance(value, dict):
            items.append(value)
    return items


def load_reference(spec: str) -> list[RefItem]:
    """Reference items from a file or a folder of files (see the module doc)."""
    path = Path(spec)
    if not path.exists():
        raise InputError(f"no file or folder {spec}",
                         hint="pass an evaluation file (e.g. an exported test split .jsonl) or a folder such as ../shared/bfcl")
    files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl") and p.is_file()) if path.is_dir() else [path]
    if not files:
        raise InputError(f"folder {spec} holds no .json or .jsonl files")
    out: list[RefItem] = []
    for f in files:
        for n, item in enumerate(_read_items(f), 1):
            turns = [t for t in _user_turns(item) if t.strip()]
            if not turns:
                continue
            out.append(RefItem(id=str(item.get("id") or f"{f.name}:{n}"), user_turns=turns, content_id=_content_id(item)))
    if not out:
        raise InputError(f"found no user requests in {spec}",
                         hint="items need messages, question (BFCL), conversations (ShareGPT) or query (xLAM)")
    return out


def _exact(store: Store, refs: list[RefItem]) -> dict[str, Any]:
    con = store.con
    load_docs(con, [r.first_user for r in refs], side=1)
    con.execute("CREATE OR REPLACE TEMP TABLE _tf_dd_refids AS SELECT unnest(?::VARCHAR[]) AS cid, "
                "(generate_subscripts(?::VARCHAR[], 1) - 1)::INTEGER AS idx",
                [[r.content_id or "" for r in refs], [r.content_id or "" for r in refs]])
    rows = con.execute(
        f"SELECT s.idx, min(d.idx) FROM {SCOPE} s JOIN records r ON r.id = s.id "
        f"JOIN _tf_dd_docs d ON d.text = {norm_sql(FIRST_USER_SQL)} AND d.text <> '' GROUP BY s.idx "
        f"UNION SELECT s.idx, min(i.idx) FROM {SCOPE} s JOIN _tf_dd_refids i ON i.cid = s.id GROUP BY s.idx"
    ).fetchall()
    best: dict[int, int] = {}
    for rec, ref in rows:
        best[rec] = min(ref, best.get(rec, ref))
    recs = sorted(best)
    return {"rec": recs, "ref": [best[r] for r in recs], "score": [1.0] * len(recs)}


def _best_per_record(rec: np.ndarray, ref: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    best: dict[int, tuple[float, int]] = {}
    for r, f, s in zip(rec.tolist(), ref.tolist(), score.tolist(), strict=True):
        if r not in best or (s, -f) > (best[r][0], -best[r][1]):
            best[r] = (s, f)
    recs = sorted(best)
    return {"rec": recs, "ref": [best[r][1] for r in recs], "score": [best[r][0] for r in recs]}


def _near(store: Store, refs: list[RefItem], cfg: DedupConfig, n_scope: int) -> dict[str, Any]:
    con = store.con
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _tf_dd_docs AS SELECT s.idx, 0::TINYINT AS side, {norm_sql(USER_TEXT_SQL)} AS text "
        f"FROM {SCOPE} s JOIN records r ON r.id = s.id")
    load_docs(con, [" ".join(r.user_turns) for r in refs], side=1, offset=n_scope, create=False)
    res = near_pairs(con, threshold=cfg.effective_threshold, num_perm=cfg.num_perm, ngram=cfg.ngram,
                     engine=cfg.engine, cross=True)
    return _best_per_record(res["b"], res["a"] - n_scope, res["score"])


def _semantic(store: Store, refs: list[RefItem], cfg: DedupConfig) -> dict[str, Any]:
    from toolforge.dedup.semantic import cross_pairs

    rec, ref, score = cross_pairs(store, ["\n".join(r.user_turns) for r in refs],
                                  threshold=cfg.effective_threshold, batch_size=cfg.batch_size)
    return _best_per_record(rec, ref, score)


SPLIT_PREFIX = "split:"


def split_reference(store: Store, name: str) -> list[RefItem]:
    """The records of split ``name`` in the most recent export that made one (``export_splits``)."""
    if not store.has_table("export_splits"):
        raise InputError(f"no export has recorded splits in {store.path}", hint="run `toolforge export` first")
    text_sql = USER_TEXT_SQL.removesuffix(", ' ')") + ", chr(10))"  # user turns, one per line
    rows = store.con.execute(
        f"SELECT r.id, {text_sql} FROM records r WHERE r.id IN ("
        "SELECT record_id FROM export_splits WHERE split = ? AND run_id = (SELECT s.run_id FROM export_splits s "
        "JOIN export_runs e ON e.run_id = s.run_id WHERE s.split = ? ORDER BY e.created_at DESC LIMIT 1)) ORDER BY r.id",
        [name, name]).fetchall()
    if not rows:
        raise InputError(f"no export has a split named {name!r}", hint="see `toolforge export --help` (e.g. split:test)")
    return [RefItem(id=rid, user_turns=[t for t in (text or "").split("\n") if t.strip()], content_id=rid)
            for rid, text in rows]


def run_against(store: Store, cfg: DedupConfig) -> DedupResult:
    t0 = time.perf_counter()
    spec = cfg.against or ""
    n = build_scope(store, method="against", status=cfg.status, scenarios=cfg.scenarios, skip_marked=False)
    if spec.startswith(SPLIT_PREFIX) and not Path(spec).exists():
        refs = split_reference(store, spec[len(SPLIT_PREFIX):])
        reference = spec
        # the held-out records are the reference, not records to check
        store.con.execute(f"DELETE FROM {SCOPE} WHERE id IN (SELECT unnest(?::VARCHAR[]))", [[r.id for r in refs]])
        n = int(store.con.execute(f"SELECT count(*) FROM {SCOPE}").fetchone()[0])  # type: ignore[index]
    else:
        refs = load_reference(spec)
        reference = str(Path(spec).resolve())
    if n == 0:
        raise InputError(f"no records to check in {store.path}", hint="import or generate records first")
    offset = int(store.con.execute(f"SELECT coalesce(max(idx), -1) + 1 FROM {SCOPE}").fetchone()[0])  # type: ignore[index]
    if cfg.method == "exact":
        found = _exact(store, refs)
    elif cfg.method == "near":
        found = _near(store, refs, cfg, offset)
    else:
        found = _semantic(store, refs, cfg)
    result = DedupResult(method=cfg.method, records=n, pairs=len(found["rec"]), clusters=0, marked=len(found["rec"]),
                         against=reference, reference_items=len(refs), dry_run=cfg.dry_run,
                         threshold=cfg.effective_threshold if cfg.method != "exact" else None,
                         engine=cfg.engine if cfg.method == "near" else None)
    result.largest = [{"record_id": store.con.execute(f"SELECT id FROM {SCOPE} WHERE idx = ?", [r]).fetchone()[0],  # type: ignore[index]
                       "ref_id": refs[f].id, "score": round(s, 4)}
                      for r, f, s in list(zip(found["rec"], found["ref"], found["score"], strict=True))[:5]]
    if not cfg.dry_run:
        run_id = store.create_run("dedup", config=cfg.model_dump(mode="json"))
        _write(store, reference, cfg.method, found, [r.id for r in refs], run_id)
        store.set_run_status(run_id, "done")
        result.run_id = run_id
    result.seconds = round(time.perf_counter() - t0, 3)
    return result


def _write(store: Store, reference: str, method: str, found: dict[str, Any], ref_ids: list[str], run_id: str) -> None:
    with store.transaction() as con:
        con.execute(f"DELETE FROM dedup_contamination WHERE reference = ? AND method = ? "
                    f"AND record_id IN (SELECT id FROM {SCOPE})", [reference, method])
        if found["rec"]:
            con.execute(
                "INSERT INTO dedup_contamination (record_id, reference, method, ref_id, score, run_id) "
                "SELECT s.id, ?, ?, f.ref_id, f.score, ? FROM (SELECT unnest(?::INTEGER[]) AS idx, "
                "unnest(?::VARCHAR[]) AS ref_id, unnest(?::DOUBLE[]) AS score) f JOIN " + SCOPE + " s ON s.idx = f.idx",
                [reference, method, run_id, found["rec"], [ref_ids[i] for i in found["ref"]], found["score"]])
        # one 'against' mark per record: its best match over every reference and method checked
        con.execute(f"DELETE FROM dedup_marks WHERE method = 'against' AND record_id IN (SELECT id FROM {SCOPE})")
        con.execute(
            "INSERT INTO dedup_marks (record_id, method, cluster_id, kept_id, score) "
            "SELECT record_id, 'against', 'against:' || arg_max(method || ':' || ref_id, score), NULL, max(score) "
            f"FROM dedup_contamination WHERE record_id IN (SELECT id FROM {SCOPE}) GROUP BY record_id")
