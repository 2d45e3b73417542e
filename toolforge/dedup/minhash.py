"""Near-duplicate search: MinHash with LSH banding over word shingles, verified by true Jaccard.

Works on a DuckDB table of documents ``(idx INTEGER, side TINYINT, text VARCHAR)``
holding *normalised* text (see :data:`NORM_SQL`); ``side`` is 0 for the records
being deduplicated and 1 for a reference set (decontamination). Two engines find
the candidate pairs, and both verify them by the exact Jaccard similarity of the
shingle sets, so they differ in speed, not in what counts as a duplicate:

- ``duckdb`` (default): shingling, MinHash signatures, LSH band keys and the
  bucket join are one set of SQL statements (vectorised, multi-threaded).
- ``datasketch``: datasketch's ``MinHash`` and ``MinHashLSH`` in Python over the
  same shingles, with the same bands.

``benchmarks/bench_dedup.py`` measured the DuckDB engine 12-15x faster than
datasketch's MinHashLSH in pure Python (1M records: 154 s against 2,361 s on the
shared 2-core machine under load, 34 s on a quieter one; 18-23 s since the bucket and
exact-check changes, load 3.5-3.9), hence the default; the
``datasketch`` engine here was slower still (31.5 s against 3.7 s at 10k records).

Shingles are the word n-grams of length 1..``ngram``. The default, ``ngram=1``
(the set of words), suits short user requests: a swap of words, a change of case
or punctuation keeps the similarity at 1.0, one changed word in ten gives about
0.82; with bigrams too (``ngram=2``) a single swap in a ten-word request already
drops the similarity to about 0.73. Use ``ngram`` 2-3 for long texts.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import duckdb

log = logging.getLogger(__name__)

# Normalised text: Unicode NFC, lower case, every run of non-letters/digits -> one space.
NORM_SQL = "trim(regexp_replace(lower(nfc_normalize(coalesce({x}, ''))), '[^\\pL\\pN]+', ' ', 'g'))"

ENGINES: tuple[str, ...] = ("duckdb", "datasketch")
_T = "_tf_dd"  # prefix of this module's temporary tables


def norm_sql(expr: str) -> str:
    return NORM_SQL.format(x=expr)


def lsh_params(threshold: float, num_perm: int, min_recall: float = 0.95) -> tuple[int, int]:
    """Bands and rows per band for LSH: the most selective banding (fewest false
    candidates) that still makes a pair at exactly ``threshold`` a candidate with
    probability >= ``min_recall``. Pairs above the threshold are found more often."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if bands < 1:
            break
        p = 1.0 - (1.0 - threshold**rows) ** bands
        if p >= min_recall:
            best = (bands, rows)
    return best


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    return 1.0 - (1.0 - similarity**rows) ** bands


def build_shingles(con: duckdb.DuckDBPyConnection, *, ngram: int, docs: str = f"{_T}_docs") -> int:
    """``{_T}_sh(idx, side, hs UBIGINT[])``: the distinct shingle hashes of each non-empty document."""
    words = "string_split(text, ' ')"
    parts = ["w"]
    for n in range(2, ngram + 1):
        parts.append(
            f"list_transform(range(1, greatest(len(w) - {n - 2}, 1)), lambda i: array_to_string(w[i:i + {n - 1}], ' '))"
        )
    grams = parts[0] if len(parts) == 1 else f"flatten([{', '.join(parts)}])"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_T}_sh AS "
        f"SELECT idx, side, list_distinct(list_transform({grams}, lambda s: hash(s))) AS hs "
        f"FROM (SELECT idx, side, {words} AS w FROM {docs} WHERE text <> '')"
    )
    row = con.execute(f"SELECT count(*) FROM {_T}_sh").fetchone()
    return int(row[0]) if row else 0


# MinHash permutation i of a 64-bit shingle hash h: hash(h XOR c_i), DuckDB's 64-bit mixer over a
# fixed random offset per permutation (measured: as independent as theory says; hash(h, i) is not).
_RNG = random.Random(20261121)
_OFFSETS = [_RNG.getrandbits(63) for _ in range(512)]


def _signature_sql(bands: int, rows: int, source: str = f"{_T}_sh") -> str:
    """``SELECT idx, side, b0..b{bands-1}``: the LSH band keys of each document's MinHash signature.

    One row per (document, shingle), then one min() per permutation in a grouped
    aggregate (measured 1.6x faster here than a list lambda per permutation)."""
    mins = ", ".join(f"min(hash(xor(h, {_OFFSETS[i]}::UBIGINT))) AS m{i}" for i in range(bands * rows))
    keys = ", ".join(f"hash({', '.join(f'm{b * rows + r}' for r in range(rows))}) AS b{b}" for b in range(bands))
    # e[b + 1]: one MinHash value outside band b (the first of the next band), to split an oversized bucket of b
    extra = f"[{', '.join(f'm{((b + 1) % bands) * rows}' for b in range(bands))}] AS e" if bands > 1 else "[m0] AS e"
    # p{j}: the low 16 bits of MinHash values 4j..4j+3 packed in one UBIGINT (lane l = value 4j+l), for the
    # estimate that screens candidates before exact Jaccard (a quarter of the columns to join)
    k = bands * rows
    low = ", ".join(
        "(" + " | ".join(f"((m{i} & 65535) << {16 * (i - 4 * j)})" for i in range(4 * j, min(4 * j + 4, k)))
        + f")::UBIGINT AS p{j}" for j in range((k + 3) // 4))
    return (f"SELECT idx, side, {keys}, {extra}, {low} FROM (SELECT idx, side, {mins} FROM "
            f"(SELECT idx, side, unnest(hs) AS h FROM {source}) GROUP BY idx, side)")


#: an LSH bucket holding more documents than this is split by one more MinHash value (see _candidates_duckdb)
BUCKET_CAP = 32


def _candidates_duckdb(con: duckdb.DuckDBPyConnection, bands: int, rows: int, cross: bool,
                       cap: int | None = None) -> None:
    """Candidate pairs ``{_T}_cand(a, b)`` from LSH buckets.

    Template-like texts (one request pattern with different slot values) share band
    keys by the thousand: such a bucket is mostly documents far below the threshold,
    and its members grow faster than the records do. A bucket of more than ``cap``
    documents is therefore split by one more MinHash value from outside its band
    (members that agree on it stay together). A pair at similarity ``J`` stays
    together with probability ``J`` (0.8 at the default threshold) and near duplicates
    share several bands, so the planted-pair recall is unchanged (bench_dedup prints
    it); every candidate is still verified by exact Jaccard.
    """
    cap = BUCKET_CAP if cap is None else cap
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_T}_sig AS {_signature_sql(bands, rows)}")
    # buckets of two or more documents, band by band: the keys shared by two or more first (a count per
    # key), then the member lists of those keys only. Most keys hold one document; building (sorted)
    # lists for all of them in one aggregate over every band was the superlinear part here (1M records:
    # 7.6 s against 3.0 s, the same buckets; tests/unit/dedup/test_near_sql_equivalence.py)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_T}_buckets (band INTEGER, m INTEGER[], s TINYINT[])")
    for b in range(bands):
        con.execute(
            f"INSERT INTO {_T}_buckets WITH d AS (SELECT b{b} AS k FROM {_T}_sig GROUP BY b{b} HAVING count(*) > 1) "
            f"SELECT {b}, list(idx ORDER BY idx), list(side ORDER BY idx) FROM {_T}_sig SEMI JOIN d ON b{b} = d.k "
            f"GROUP BY b{b}")
    if cap > 1:
        big = con.execute(f"SELECT count(*) FROM {_T}_buckets WHERE len(m) > ?", [cap]).fetchone()
        if big and big[0]:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_T}_split AS SELECT list(u.idx ORDER BY u.idx) AS m, "
                f"list(u.side ORDER BY u.idx) AS s FROM (SELECT bid, band, unnest(m) AS idx, unnest(s) AS side FROM "
                f"(SELECT row_number() OVER () AS bid, band, m, s FROM {_T}_buckets WHERE len(m) > {int(cap)})) u "
                f"JOIN {_T}_sig g ON g.idx = u.idx GROUP BY u.bid, g.e[u.band + 1] HAVING count(*) > 1")
            con.execute(f"DELETE FROM {_T}_buckets WHERE len(m) > ?", [cap])
            con.execute(f"INSERT INTO {_T}_buckets SELECT -1, m, s FROM {_T}_split")
            con.execute(f"DROP TABLE {_T}_split")
    if cross:
        # each record with the smallest reference document sharing its bucket
        sql = (f"SELECT DISTINCT a, b FROM (SELECT list_min(list_filter(m, lambda x, i: s[i] = 1)) AS a, "
               f"unnest(list_filter(m, lambda x, i: s[i] = 0)) AS b FROM {_T}_buckets) WHERE a IS NOT NULL")
    else:
        # star (bucket minimum -> member) plus chain (previous member -> member): linear in bucket size
        sql = (f"SELECT DISTINCT a, b FROM (SELECT unnest([m[1], m[i - 1]]) AS a, m[i] AS b FROM "
               f"(SELECT m, unnest(range(2, len(m) + 1)) AS i FROM {_T}_buckets)) WHERE a < b")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_T}_cand AS {sql}")
    con.execute(f"DROP TABLE {_T}_buckets")


#: candidates whose MinHash estimate is this far below the threshold skip the exact Jaccard (see _screen)
SCREEN_MARGIN = 0.2


def _screen(con: duckdb.DuckDBPyConnection, k: int, threshold: float) -> None:
    """Drop candidates whose MinHash estimate of Jaccard is below ``threshold - SCREEN_MARGIN``.

    Template-like texts make candidate pairs grow faster than the records (same-template
    pairs collide in some band by chance); the exact Jaccard join over their shingle lists
    was the superlinear part. Counting equal MinHash values (16-bit) is a cheap vectorised
    sum: a pair at the threshold agrees on ``threshold * k`` of ``k`` values with a standard
    deviation near ``sqrt(k * t * (1 - t))`` (about 3 of 60 at 0.8), so a margin of 0.2 (4
    standard deviations) drops essentially no pair the exact check would keep; those left are
    verified exactly as before.
    """
    need = max(0, int((threshold - SCREEN_MARGIN) * k))
    if need <= 0 or k <= 0:
        return
    # value i agrees when its 16-bit lane of xor(x.p, y.p) is zero
    agree = " + ".join(f"((xor(x.p{i // 4}, y.p{i // 4}) >> {16 * (i % 4)}) & 65535 = 0)::INTEGER" for i in range(k))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_T}_cand2 AS SELECT c.a, c.b FROM {_T}_cand c "
                f"JOIN {_T}_sig x ON x.idx = c.a JOIN {_T}_sig y ON y.idx = c.b WHERE {agree} >= {need}")
    con.execute(f"DROP TABLE {_T}_cand")
    con.execute(f"ALTER TABLE {_T}_cand2 RENAME TO {_T}_cand")


#: |X & Y| of two distinct-hash lists: the members of one that the other contains. Same count as
#: len(list_intersect(x, y)), measured 11x faster on 800k candidate pairs (list_intersect builds a
#: list per pair); tests/unit/dedup/test_exact_sql.py checks they agree
INTERSECTION_SQL = "len(list_filter(x.hs, lambda h: list_contains(y.hs, h)))"


def exact_sql(intersection: str = INTERSECTION_SQL) -> str:
    """The exact Jaccard check of the candidate pairs: ``(a, b, score)`` at or above the threshold (``?``)."""
    return (f"SELECT a, b, score FROM (SELECT c.a, c.b, {intersection} AS inter, "
            f"inter / (len(x.hs) + len(y.hs) - inter) AS score "
            f"FROM {_T}_cand c JOIN {_T}_sh x ON x.idx = c.a JOIN {_T}_sh y ON y.idx = c.b) "
            f"WHERE score >= ? ORDER BY a, b")


def _candidates_datasketch(con: duckdb.DuckDBPyConnection, bands: int, rows: int, cross: bool) -> None:
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:  # pragma: no cover - the dedup extra is installed with toolforge[all]
        from toolforge.errors import MissingExtraError

        raise MissingExtraError("the datasketch engine", extra="dedup") from None
    num_perm = bands * rows
    lsh = MinHashLSH(num_perm=num_perm, params=(bands, rows))
    cur = con.execute(f"SELECT idx, side, hs FROM {_T}_sh ORDER BY idx")
    hashes: dict[int, Any] = {}
    sides: dict[int, int] = {}
    while batch := cur.fetchmany(10_000):
        for idx, side, hs in batch:
            m = MinHash(num_perm=num_perm, hashfunc=_low32)
            m.update_batch(hs)
            hashes[idx] = m
            sides[idx] = side
            if not cross or side == 1:
                lsh.insert(idx, m, check_duplication=False)
    pairs: set[tuple[int, int]] = set()
    for idx, m in hashes.items():
        if cross and sides[idx] == 1:
            continue
        for other in lsh.query(m):
            if other == idx:
                continue
            pairs.add((other, idx) if cross else (min(idx, other), max(idx, other)))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_T}_cand (a INTEGER, b INTEGER)")
    if pairs:
        a, b = zip(*sorted(pairs), strict=True)
        con.execute(f"INSERT INTO {_T}_cand SELECT unnest(?::INTEGER[]), unnest(?::INTEGER[])", [list(a), list(b)])


def _low32(value: int) -> int:
    return value & 0xFFFFFFFF


_CANDIDATES: dict[str, Callable[[duckdb.DuckDBPyConnection, int, int, bool], None]] = {
    "duckdb": _candidates_duckdb,
    "datasketch": _candidates_datasketch,
}


def near_pairs(con: duckdb.DuckDBPyConnection, *, threshold: float = 0.8, num_perm: int = 64, ngram: int = 1,
               engine: str = "duckdb", cross: bool = False, docs: str = f"{_T}_docs") -> dict[str, Any]:
    """Verified near-duplicate pairs among the documents in ``docs``.

    Returns ``{"a", "b", "score"}`` as numpy arrays (``a < b`` within one side; in
    ``cross`` mode ``a`` is a reference document and ``b`` a record) plus counts.
    """
    bands, rows = lsh_params(threshold, num_perm)
    n_docs = build_shingles(con, ngram=ngram, docs=docs)
    _CANDIDATES[engine](con, bands, rows, cross)
    row = con.execute(f"SELECT count(*) FROM {_T}_cand").fetchone()
    n_cand = int(row[0]) if row else 0
    n_exact = n_cand
    if engine == "duckdb":  # its signature table is still there: screen, then the exact check on the rest
        _screen(con, bands * rows, threshold)
        con.execute(f"DROP TABLE {_T}_sig")
        row = con.execute(f"SELECT count(*) FROM {_T}_cand").fetchone()
        n_exact = int(row[0]) if row else 0
    res = con.execute(exact_sql(), [threshold - 1e-9]).fetchnumpy()
    con.execute(f"DROP TABLE IF EXISTS {_T}_cand")
    con.execute(f"DROP TABLE IF EXISTS {_T}_sh")
    log.info("near dedup: %d documents, %d bands x %d rows, %d candidates, %d after the MinHash screen, "
             "%d verified pairs", n_docs, bands, rows, n_cand, n_exact, len(res["a"]))
    return {"a": res["a"], "b": res["b"], "score": res["score"], "documents": n_docs, "candidates": n_cand,
            "exact_checked": n_exact, "bands": bands, "rows": rows}


def find_near_duplicates(texts: list[str], *, threshold: float = 0.8, num_perm: int = 64, ngram: int = 1,
                         engine: str = "duckdb", threads: int | None = None) -> list[tuple[int, int, float]]:
    """In-memory convenience: verified pairs ``(i, j, jaccard)`` (``i < j``) among raw ``texts``."""
    con = duckdb.connect()
    try:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        load_docs(con, texts)
        res = near_pairs(con, threshold=threshold, num_perm=num_perm, ngram=ngram, engine=engine)
        return [(int(a), int(b), float(s)) for a, b, s in zip(res["a"], res["b"], res["score"], strict=True)]
    finally:
        con.close()


def load_docs(con: duckdb.DuckDBPyConnection, texts: list[str], *, side: int = 0, offset: int = 0,
              create: bool = True) -> None:
    """Load raw texts as documents ``offset..offset+len-1`` (normalised on the way in)."""
    if create:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_T}_docs (idx INTEGER, side TINYINT, text VARCHAR)")
    if not texts:
        return
    con.execute(
        f"INSERT INTO {_T}_docs SELECT i + ? - 1, ?, {norm_sql('t')} "
        f"FROM (SELECT unnest(l) AS t, generate_subscripts(l, 1) AS i FROM (SELECT ?::VARCHAR[] AS l))",
        [offset, side, texts],
    )


def jaccard(a: set[Any], b: set[Any]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def expected_recall(threshold: float, num_perm: int) -> float:
    bands, rows = lsh_params(threshold, num_perm)
    return candidate_probability(threshold, bands, rows)


__all__ = ["ENGINES", "NORM_SQL", "candidate_probability", "expected_recall", "find_near_duplicates", "jaccard",
           "load_docs", "lsh_params", "near_pairs", "norm_sql"]
