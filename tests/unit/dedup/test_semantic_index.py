"""Semantic dedup above INDEX_MIN records searches a faiss inverted-file index: it finds the planted
near-duplicates and the pairs an exact all-against-all search finds, and gives the same pairs as the
DuckDB all-against-all path on a store (embeddings stored directly, so no model is loaded)."""

from __future__ import annotations

import numpy as np
import pytest

from toolforge.dedup import semantic
from toolforge.dedup.run import build_scope
from toolforge.store import open_store

DIM = 384


def _vectors(n: int, seed: int = 5) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Unit vectors around 400 topic centres (embeddings cluster by topic), 10% of them planted
    near-duplicates (cosine about 0.9-0.97) of an earlier vector."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((400, DIM)).astype(np.float32)
    x = centres[rng.integers(0, 400, n)] + 1.1 * rng.standard_normal((n, DIM)).astype(np.float32)
    planted = []
    for i in range(10, n, 10):
        src = int(rng.integers(0, i))
        x[i] = x[src] / np.linalg.norm(x[src]) + rng.uniform(0.25, 0.45) * rng.standard_normal(DIM).astype(np.float32) / np.sqrt(DIM)
        planted.append((src, i))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, planted


def test_index_finds_the_planted_and_the_exact_pairs_above_the_threshold():
    n, thr = semantic.INDEX_MIN + 5_000, 0.85
    x, planted = _vectors(n)
    a, b, s = semantic.index_pairs(x, None, thr)
    found = set(zip(a.tolist(), b.tolist(), strict=True))
    assert all(a < b) and len(found) == len(a)
    # every planted pair is at or above the threshold, and the index finds each one
    cos = np.einsum("ij,ij->i", x[[p for p, _ in planted]], x[[q for _, q in planted]])
    assert cos.min() >= thr
    assert [p for p in planted if p not in found] == []
    # no pair below the threshold; scores are the vectors' inner products
    assert (s >= thr).all() and np.allclose(s, np.einsum("ij,ij->i", x[a], x[b]), atol=1e-5)
    # against exact all-against-all for 1,000 rows: the same partners
    rows = np.random.default_rng(1).choice(n, 1_000, replace=False)
    sims = x[rows] @ x.T
    for k, r in enumerate(rows.tolist()):
        exact = {int(j) for j in np.nonzero(sims[k] >= thr)[0] if j != r}
        got = {bb for aa, bb in found if aa == r} | {aa for aa, bb in found if bb == r}
        assert got == exact, r


def test_too_few_cells_probed_is_caught_by_the_sampled_check(caplog):
    # no topic structure and pairs near a low threshold: a pair's two vectors often fall in different cells
    rng = np.random.default_rng(9)
    x = rng.standard_normal((8_000, DIM)).astype(np.float32)
    x[1::2] = x[0::2] + 0.9 * rng.standard_normal((4_000, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    planted = [(i, i + 1) for i in range(0, 8_000, 2)]
    assert min(float(x[i] @ x[j]) for i, j in planted) >= 0.6
    with caplog.at_level("INFO", logger="toolforge.dedup.semantic"):
        a, b, _ = semantic.index_pairs(x, None, 0.6, nprobe=1)
    assert "probing 2" in caplog.text  # one cell is not enough here: the check widened the search
    found = set(zip(a.tolist(), b.tolist(), strict=True))
    # adversarial data (no clusters): the widened search still misses a few in a thousand (0.9995 measured)
    assert sum(p in found for p in planted) / len(planted) >= 0.995


def test_cross_search_finds_each_reference_neighbour():
    x, _ = _vectors(6_000, seed=3)
    refs = x[[10, 500, 4_000]] + 0.2 * np.random.default_rng(2).standard_normal((3, DIM)).astype(np.float32) / np.sqrt(DIM)
    refs /= np.linalg.norm(refs, axis=1, keepdims=True)
    r, rec, s = semantic.index_pairs(x, refs, 0.85)
    exact = np.argwhere(refs @ x.T >= 0.85)
    assert sorted(zip(r.tolist(), rec.tolist(), strict=True)) == sorted(map(tuple, exact.tolist()))
    assert {(0, 10), (1, 500), (2, 4_000)} <= set(zip(r.tolist(), rec.tolist(), strict=True))


@pytest.fixture
def store_with_vectors(tmp_path):
    n = 3_000
    x, planted = _vectors(n, seed=11)
    with open_store(tmp_path / "s.duckdb") as store:
        ids = [f"r{i:06d}" for i in range(n)]
        store.con.execute(
            "INSERT INTO records (id, scenario, tools, messages, meta, source) SELECT id, 'single_tool', '[]', "
            "json_array(json_object('role', 'user', 'content', 'q ' || id)), '{}', 't' FROM (SELECT unnest(?::VARCHAR[]) AS id)",
            [ids])
        store.con.execute("INSERT INTO dedup_embeddings (record_id, model, embedding) "
                          "SELECT unnest(?::VARCHAR[]), ?, unnest(?::FLOAT[][])", [ids, semantic.MODEL_NAME, x.tolist()])
        yield store


def test_store_index_path_gives_the_all_against_all_pairs(store_with_vectors, monkeypatch):
    store = store_with_vectors
    build_scope(store, method="semantic")
    exact = semantic.semantic_pairs_for_scope(store, threshold=0.85)
    assert "index" not in exact and len(exact["a"]) > 250
    monkeypatch.setattr(semantic, "INDEX_MIN", 100)
    indexed = semantic.semantic_pairs_for_scope(store, threshold=0.85)
    assert indexed["index"] is True
    assert indexed["a"].tolist() == exact["a"].tolist() and indexed["b"].tolist() == exact["b"].tolist()
    assert np.allclose(indexed["score"], exact["score"], atol=1e-5)


def test_store_cross_pairs_index_path_matches_the_sql_path(store_with_vectors, monkeypatch):
    store = store_with_vectors
    build_scope(store, method="semantic")
    _, vecs = semantic._scope_vectors(store)
    refs = vecs[[3, 700, 2_500]] + 0.2 * np.random.default_rng(4).standard_normal((3, DIM)).astype(np.float32) / np.sqrt(DIM)
    refs /= np.linalg.norm(refs, axis=1, keepdims=True)
    monkeypatch.setattr(semantic, "embed", lambda texts, batch_size=64: refs[: len(texts)])  # no model: fixed vectors
    want = semantic.cross_pairs(store, ["a", "b", "c"], threshold=0.85)
    monkeypatch.setattr(semantic, "INDEX_MIN", 100)
    got = semantic.cross_pairs(store, ["a", "b", "c"], threshold=0.85)
    assert len(want[0]) >= 3 and {3, 700, 2_500} <= set(want[0].tolist())
    assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    assert np.allclose(got[2], want[2], atol=1e-5)
