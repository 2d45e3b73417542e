"""The faster SQL of near dedup gives what the earlier SQL gave: the same LSH buckets (keys shared
by two or more documents, found before the member lists are built) and the same exact Jaccard
scores (members of one list contained in the other, instead of list_intersect)."""

from __future__ import annotations

import random

import duckdb

from toolforge.dedup import minhash

T = minhash._T


def _texts(n: int = 4000) -> list[str]:
    rng = random.Random(11)
    vocab = [f"w{i}" for i in range(3000)]
    texts: list[str] = []
    for i in range(n):
        if i % 7 == 6:  # a near duplicate: one word replaced
            words = texts[i - 1].split()
            words[rng.randrange(len(words))] = rng.choice(vocab)
            texts.append(" ".join(words))
        else:  # template texts share band keys by the hundred
            texts.append("what is the {} forecast for {} on {} and should I bring {}".format(
                *(rng.choice(vocab[:300]) for _ in range(4))) + " " + " ".join(rng.sample(vocab, rng.randint(0, 4))))
    return texts


def _con(texts: list[str]) -> tuple[duckdb.DuckDBPyConnection, int, int]:
    con = duckdb.connect()
    minhash.load_docs(con, texts)
    minhash.build_shingles(con, ngram=1)
    bands, rows = minhash.lsh_params(0.8, 64)
    return con, bands, rows


def test_buckets_are_those_of_one_grouped_aggregate():
    con, bands, rows = _con(_texts())
    con.execute(f"CREATE TEMP TABLE {T}_sig AS {minhash._signature_sql(bands, rows)}")
    union = " UNION ALL ".join(f"SELECT {b} AS band, b{b} AS k, idx, side FROM {T}_sig" for b in range(bands))
    before = con.execute(f"SELECT band, list(idx ORDER BY idx) AS m, list(side ORDER BY idx) AS s FROM ({union}) "
                         "GROUP BY band, k HAVING count(*) > 1 ORDER BY band, m").fetchall()
    minhash._candidates_duckdb(con, bands, rows, cross=False, cap=10**9)  # no split: the buckets as built
    cand = set(con.execute(f"SELECT a, b FROM {T}_cand").fetchall())
    want = {(m[0], x) for _, m, _ in before for x in m[1:]} | {(m[i - 1], m[i]) for _, m, _ in before
                                                               for i in range(1, len(m))}
    assert len(before) > 100 and max(len(m) for _, m, _ in before) > 20
    assert cand == want


def test_exact_scores_equal_list_intersect():
    con, bands, rows = _con(_texts())
    minhash._candidates_duckdb(con, bands, rows, cross=False, cap=10**9)  # every candidate, unscreened
    fast = con.execute(minhash.exact_sql(), [0.0]).fetchall()
    slow = con.execute(minhash.exact_sql("len(list_intersect(x.hs, y.hs))"), [0.0]).fetchall()
    assert len(fast) > 1000 and fast == slow
    assert sum(1 for _, _, s in fast if s >= 0.8) > 100 and sum(1 for _, _, s in fast if s < 0.8) > 100


def test_packed_screen_keeps_the_pairs_whose_16_bit_minhash_values_agree_often_enough():
    """The screen compares four 16-bit MinHash values per packed column: it keeps exactly the
    candidates that agree on at least (threshold - margin) * k values, counted one by one here."""
    con, bands, rows = _con(_texts())
    k = bands * rows
    minhash._candidates_duckdb(con, bands, rows, cross=False, cap=10**9)
    cand = con.execute(f"SELECT a, b FROM {T}_cand ORDER BY a, b").fetchall()
    mins = ", ".join(f"min(hash(xor(h, {minhash._OFFSETS[i]}::UBIGINT))) & 65535 AS v{i}" for i in range(k))
    values = {r[0]: r[1:] for r in con.execute(
        f"SELECT idx, {mins} FROM (SELECT idx, unnest(hs) AS h FROM {T}_sh) GROUP BY idx").fetchall()}
    need = int((0.8 - minhash.SCREEN_MARGIN) * k)
    want = [(a, b) for a, b in cand if sum(x == y for x, y in zip(values[a], values[b], strict=True)) >= need]
    minhash._screen(con, k, 0.8)
    got = con.execute(f"SELECT a, b FROM {T}_cand ORDER BY a, b").fetchall()
    assert len(want) > 100 and len(cand) - len(want) > 1000 and got == want
