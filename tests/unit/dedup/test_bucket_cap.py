"""Oversized LSH buckets are split by one more MinHash value: fewer candidates, the same planted pairs."""

from __future__ import annotations

import random

import duckdb

from toolforge.dedup import minhash


def _corpus(n: int = 3000) -> tuple[list[str], set[tuple[int, int]]]:
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(4000)]
    texts, planted = [], set()
    for i in range(n):
        if i % 10 == 9:  # a near duplicate of the previous text: one word replaced
            words = texts[i - 1].split()
            words[rng.randrange(len(words))] = rng.choice(vocab)
            texts.append(" ".join(words))
            planted.add((i - 1, i))
        else:  # one fixed template, four slots: thousands of texts share band keys
            texts.append("please book a table for the team at {} near {} around {} on {} thanks".format(
                *(rng.choice(vocab) for _ in range(4))))
    return texts, planted


def _run(texts: list[str], cap: int, monkeypatch) -> dict:
    monkeypatch.setattr(minhash, "BUCKET_CAP", cap)
    con = duckdb.connect()
    try:
        minhash.load_docs(con, texts)
        return minhash.near_pairs(con, threshold=0.7, num_perm=64)
    finally:
        con.close()


def test_split_buckets_keep_the_planted_pairs_with_fewer_candidates(monkeypatch):
    texts, planted = _corpus()
    whole = _run(texts, 0, monkeypatch)          # 0: no split (as before)
    split = _run(texts, 8, monkeypatch)
    found_whole = {(int(a), int(b)) for a, b in zip(whole["a"], whole["b"], strict=True)}
    found_split = {(int(a), int(b)) for a, b in zip(split["a"], split["b"], strict=True)}
    assert split["candidates"] < whole["candidates"]
    recall_whole = len(planted & found_whole) / len(planted)
    recall_split = len(planted & found_split) / len(planted)
    assert recall_whole > 0.9 and recall_split >= recall_whole - 0.01
    assert all(s >= 0.7 - 1e-9 for s in split["score"])  # every pair reported is still verified by exact Jaccard


def test_minhash_screen_drops_candidates_not_pairs(monkeypatch):
    texts, _ = _corpus()
    monkeypatch.setattr(minhash, "SCREEN_MARGIN", 1.0)   # off: every candidate gets the exact Jaccard
    exact = _run(texts, 8, monkeypatch)
    monkeypatch.setattr(minhash, "SCREEN_MARGIN", 0.2)
    screened = _run(texts, 8, monkeypatch)
    assert screened["exact_checked"] < screened["candidates"] == exact["candidates"] == exact["exact_checked"]
    assert list(zip(screened["a"], screened["b"], strict=True)) == list(zip(exact["a"], exact["b"], strict=True))
