from __future__ import annotations

from collections import Counter

import pytest

from toolforge.errors import UsageError
from toolforge.export.splits import split_records
from toolforge.record import SCENARIOS, Record


def _records(n_per_scenario: int) -> list[Record]:
    out = []
    for s in SCENARIOS:
        for i in range(n_per_scenario):
            out.append(Record.model_validate({"scenario": s, "messages": [
                {"role": "user", "content": f"{s} request {i}"}, {"role": "assistant", "content": f"answer {i}"}]}))
    return out


def test_stratified_by_scenario_and_seeded():
    recs = _records(10)
    a = split_records(recs, test_fraction=0.2, seed=3)
    assert len(a["test"]) == 14 and len(a["train"]) == 56
    assert Counter(r.scenario for r in a["test"]) == dict.fromkeys(SCENARIOS, 2)
    b = split_records(list(reversed(recs)), test_fraction=0.2, seed=3)
    assert {r.id for r in a["test"]} == {r.id for r in b["test"]}  # input order does not matter
    c = split_records(recs, test_fraction=0.2, seed=4)
    assert {r.id for r in a["test"]} != {r.id for r in c["test"]}


def test_clusters_never_straddle():
    recs = _records(10)
    # Chain records into clusters of 3 inside each scenario, plus one cluster across two scenarios.
    clusters = {r.id: f"c{i // 3}" for i, r in enumerate(recs)}
    for seed in range(20):
        out = split_records(recs, test_fraction=0.3, seed=seed, clusters=clusters)
        sides: dict[str, set[str]] = {}
        for name, rs in out.items():
            for r in rs:
                sides.setdefault(clusters[r.id], set()).add(name)
        assert all(len(v) == 1 for v in sides.values()), seed
        assert 0 < len(out["test"]) < len(recs)


def test_zero_fraction_and_bad_fraction():
    recs = _records(1)
    assert split_records(recs, test_fraction=0.0) == {"train": recs}
    with pytest.raises(UsageError):
        split_records(recs, test_fraction=1.0)
