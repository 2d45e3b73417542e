"""MinHash/LSH engine logic: banding, normalisation, verification by true Jaccard."""

from __future__ import annotations

import pytest

from toolforge.dedup.minhash import ENGINES, candidate_probability, find_near_duplicates, lsh_params


def test_lsh_params_reach_the_recall_target_at_the_threshold():
    for threshold in (0.5, 0.7, 0.8, 0.9):
        for num_perm in (32, 64, 128):
            bands, rows = lsh_params(threshold, num_perm)
            assert bands * rows <= num_perm
            assert candidate_probability(threshold, bands, rows) >= 0.95
            # and it is the most selective such banding: one more row per band misses the target
            more = num_perm // (rows + 1)
            if more:
                assert candidate_probability(threshold, more, rows + 1) < 0.95
    assert lsh_params(0.8, 64) == (10, 6)


@pytest.mark.parametrize("engine", ENGINES)
def test_case_punctuation_and_word_order_do_not_matter(engine):
    texts = [
        "What is the weather in Oslo today, please?",
        "what is the WEATHER in oslo today please",
        "What is weather the in Oslo today please?!",
        "Book a table for two at eight tonight",
        "",
        "Book a table for four at nine tomorrow",
    ]
    pairs = find_near_duplicates(texts, engine=engine)
    assert [(a, b) for a, b, _ in pairs] == [(0, 1), (0, 2), (1, 2)]
    assert all(s == 1.0 for _, _, s in pairs)


@pytest.mark.parametrize("engine", ENGINES)
def test_scores_are_true_jaccard_and_threshold_applies(engine):
    base = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    one_changed = base[:-1] + ["lambda"]          # 9 shared of 11 -> 0.818
    two_changed = base[:-2] + ["lambda", "mu"]    # 8 shared of 12 -> 0.667
    texts = [" ".join(base), " ".join(one_changed), " ".join(two_changed)]
    pairs = {(a, b): s for a, b, s in find_near_duplicates(texts, engine=engine, threshold=0.8)}
    assert set(pairs) == {(0, 1), (1, 2)}  # 1 and 2 share "lambda" too: 9 of 11
    assert pairs[(0, 1)] == pytest.approx(9 / 11)
    low = {(a, b): s for a, b, s in find_near_duplicates(texts, engine=engine, threshold=0.6)}
    assert low[(0, 2)] == pytest.approx(8 / 12)
    assert low[(1, 2)] == pytest.approx(9 / 11)


def test_bigram_shingles_see_word_order():
    texts = ["one two three four five six seven eight nine ten", "one two three five four six seven eight nine ten"]
    assert find_near_duplicates(texts, ngram=1)[0][2] == 1.0
    # bigrams: 9 + 9 with 6 shared -> unigrams 10 shared, union (10 + 12) -> 16 / 22
    [(_, _, s)] = find_near_duplicates(texts, ngram=2, threshold=0.5)
    assert s == pytest.approx(16 / 22)


def test_unicode_text_is_normalised():
    pairs = find_near_duplicates(["Café CRÈME au lait, s'il vous plaît", "café crème au lait s il vous plaît"])
    assert [(a, b) for a, b, _ in pairs] == [(0, 1)]
