"""Planted duplicates: exact and near dedup find >= 95% of planted pairs with < 1% false merges."""

from __future__ import annotations

import pytest

from tests.unit.dedup.corpus import make_corpus
from toolforge.dedup import clusters, make_config, run_dedup
from toolforge.store import Selection, open_store


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()


def _pair_recall(pairs, cluster_of):
    found = sum(1 for a, b in pairs if a in cluster_of and cluster_of.get(a) == cluster_of.get(b))
    return found / len(pairs)


def _false_merges(corpus, cluster_of):
    """Records sharing a cluster with a record that is not a planted copy of the same original."""
    by_cluster: dict[str, set[str]] = {}
    for rid, cid in cluster_of.items():
        by_cluster.setdefault(cid, set()).add(corpus.source_of[rid])
    return sum(1 for rid, cid in cluster_of.items() if len(by_cluster[cid]) > 1)


@pytest.mark.parametrize("engine", ["duckdb", "datasketch"])
def test_exact_then_near_find_planted_pairs(tmp_path, corpus, engine):
    db = tmp_path / "planted.duckdb"
    with open_store(db) as store:
        assert store.upsert_records(corpus.records, source="test") == 750
        exact = run_dedup(store, make_config(method="exact"))
        # every planted exact pair, nothing else: the counts are exact
        assert exact.records == 750
        assert exact.clusters == 60
        assert exact.marked == 60
        ex = clusters(store, "exact")
        assert _pair_recall(corpus.exact_pairs, ex) == 1.0
        assert _pair_recall(corpus.near_pairs, ex) == 0.0  # word swaps are not exact duplicates
        assert _false_merges(corpus, ex) == 0

        near = run_dedup(store, make_config(method="near", engine=engine))
        assert near.records == 750 - 60  # exact duplicates are skipped
        nr = clusters(store, "near")
        recall = _pair_recall(corpus.near_pairs, nr)
        assert recall >= 0.95, recall
        assert 0.95 * 90 <= near.marked <= 90
        merged = clusters(store)
        assert _pair_recall(corpus.exact_pairs + corpus.near_pairs, merged) >= 0.95
        assert _false_merges(corpus, merged) / len(corpus.records) < 0.01

        # the kept ones and the untouched records are what later stages see
        kept = set(store.select_ids(Selection()))
        assert len(kept) == 750 - exact.marked - near.marked
        assert store.con.execute(
            "SELECT count(*) FROM dedup_marks WHERE record_id IN (SELECT record_id FROM dedup_clusters WHERE is_kept)"
        ).fetchone()[0] == 0
        assert store.count_records() == 750  # marked, not deleted


def test_rerun_replaces_and_dry_run_writes_nothing(tmp_path):
    small = make_corpus(n_distinct=100, n_exact=12, n_near=0, seed=3)
    db = tmp_path / "rerun.duckdb"
    with open_store(db) as store:
        store.upsert_records(small.records, source="test")
        dry = run_dedup(store, make_config(method="exact", dry_run=True))
        assert dry.marked == 12 and dry.run_id is None
        assert store.con.execute("SELECT count(*) FROM dedup_marks").fetchone()[0] == 0
        first = run_dedup(store, make_config(method="exact"))
        second = run_dedup(store, make_config(method="exact"))
        assert first.marked == second.marked == 12
        assert store.con.execute("SELECT count(*) FROM dedup_marks WHERE method = 'exact'").fetchone()[0] == 12
        assert store.con.execute("SELECT count(*) FROM dedup_clusters WHERE method = 'exact'").fetchone()[0] == 24


def test_narrower_rerun_keeps_marks_outside_its_scope(tmp_path, sample_records):
    from toolforge.record import Record

    recs = list(sample_records)
    dups = []
    for r in recs[:3]:
        d = r.to_dict()
        d.pop("id")
        d["messages"][-1]["content"] = "Yet another answer."
        dups.append(Record.model_validate(d))
    with open_store(tmp_path / "n.duckdb") as store:
        store.upsert_records(recs + dups, source="test")
        assert run_dedup(store, make_config(method="exact")).marked == 3
        single = {r.id for r in dups if r.scenario == "single_tool"}
        assert run_dedup(store, make_config(method="exact", scenarios=["single_tool"])).marked == len(single)
        marked = {r for (r,) in store.con.execute("SELECT record_id FROM dedup_marks").fetchall()}
    assert marked == {r.id for r in dups}
