"""Train/test splits: seeded, stratified by scenario, near-duplicates kept on one side.

Records that share a dedup cluster (``toolforge.dedup.clusters``) move together, so
no near-duplicate straddles train and test. Without dedup results every record is
its own cluster. The test share of each scenario is allocated by largest
remainder, so the overall test size is ``round(n * fraction)`` and every scenario
gets its proportional share.
"""

from __future__ import annotations

import importlib
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from toolforge.errors import UsageError
from toolforge.record import Record

if TYPE_CHECKING:
    from toolforge.store import Store

log = logging.getLogger(__name__)

TRAIN, TEST = "train", "test"


def dedup_clusters(store: Store) -> dict[str, str]:
    """``record_id -> cluster_id`` from the dedup area when it is installed, else ``{}``."""
    try:
        mod = importlib.import_module("toolforge.dedup")
    except ModuleNotFoundError as exc:
        if exc.name not in ("toolforge.dedup",):
            raise
        log.info("toolforge.dedup is not available: every record is its own cluster")
        return {}
    fn = getattr(mod, "clusters", None)
    if fn is None:
        return {}
    return dict(fn(store))


def split_records(records: Sequence[Record], *, test_fraction: float, seed: int = 0,
                  clusters: Mapping[str, str] | None = None) -> dict[str, list[Record]]:
    """Split ``records`` into ``{"train": [...], "test": [...]}`` (no test key when fraction is 0)."""
    if not 0.0 <= test_fraction < 1.0:
        raise UsageError(f"--test-fraction must be in [0, 1), got {test_fraction}")
    ordered = sorted(records, key=lambda r: r.id or "")
    if test_fraction == 0.0 or not ordered:
        return {TRAIN: list(records)}
    clusters = clusters or {}
    groups: dict[str, list[Record]] = defaultdict(list)
    for rec in ordered:
        assert rec.id is not None
        groups[clusters.get(rec.id, "rec:" + rec.id)].append(rec)

    # A cluster belongs to the scenario most of its members have (ties: alphabetical).
    by_scenario: dict[str, list[str]] = defaultdict(list)
    for key, members in groups.items():
        counts: Counter[str] = Counter(str(m.scenario or "") for m in members)
        scen = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        by_scenario[scen].append(key)

    sizes = {s: sum(len(groups[k]) for k in keys) for s, keys in by_scenario.items()}
    targets = _largest_remainder(sizes, round(len(ordered) * test_fraction))

    rng = random.Random(seed)
    test_keys: set[str] = set()
    have: dict[str, int] = {}
    order: dict[str, list[str]] = {}
    for scen in sorted(by_scenario):
        keys = sorted(by_scenario[scen])
        rng.shuffle(keys)
        order[scen] = keys
        want, have[scen] = targets[scen], 0
        for key in keys:
            size = len(groups[key])
            if have[scen] >= want:
                break
            # Take a cluster when it brings the scenario's count closer to its target.
            if abs(want - (have[scen] + size)) <= abs(want - have[scen]):
                test_keys.add(key)
                have[scen] += size
    # Clusters larger than a scenario's share can leave the test split short overall: top it up
    # from the scenarios furthest below their target, while that brings the total closer.
    total_target, total = sum(targets.values()), sum(have.values())
    rest = [(targets[s] - have[s], i, s, k) for s in order for i, k in enumerate(order[s]) if k not in test_keys]
    for _deficit, _i, _scen, key in sorted(rest, key=lambda t: (-t[0], t[1], t[2])):
        size = len(groups[key])
        if total >= total_target:
            break
        if abs(total_target - (total + size)) <= abs(total_target - total):
            test_keys.add(key)
            total += size
    out: dict[str, list[Record]] = {TRAIN: [], TEST: []}
    test_ids = {m.id for k in test_keys for m in groups[k]}
    for rec in records:  # keep the caller's order inside each split
        out[TEST if rec.id in test_ids else TRAIN].append(rec)
    return out


def _largest_remainder(sizes: Mapping[str, int], total: int) -> dict[str, int]:
    n = sum(sizes.values())
    if n == 0:
        return dict.fromkeys(sizes, 0)
    exact = {s: sizes[s] * total / n for s in sizes}
    base = {s: int(v) for s, v in exact.items()}
    left = total - sum(base.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - base[s]), s))[:max(left, 0)]:
        base[s] += 1
    return base


def split_summary(splits: Mapping[str, Sequence[Record]]) -> dict[str, Any]:
    return {name: {"n": len(recs), "scenarios": dict(sorted(Counter(r.scenario or "-" for r in recs).items()))}
            for name, recs in splits.items()}
