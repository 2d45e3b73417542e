"""Near dedup at scale: toolforge (MinHash + LSH in DuckDB SQL) against datasketch's MinHashLSH in pure Python.

    python benchmarks/bench_dedup.py                     # 100k and 1M records
    python benchmarks/bench_dedup.py --sizes 20000       # a quick run
    python benchmarks/bench_dedup.py --baseline-max 0 --repeat 3   # growth 100k -> 1M, best of 3 each

The records are user requests generated here (seeded): template sentences with
slots filled from a made-up vocabulary, plus 10% planted near duplicates (two
adjacent words swapped, case and punctuation changed, half with one word
replaced). Each measurement runs in its own process (same data, regenerated from
the seed, generation not timed) so that its peak memory (ru_maxrss) is its own.

- toolforge: ``toolforge.dedup.minhash.find_near_duplicates`` (shingles,
  signatures, LSH buckets, candidate join and Jaccard verification in DuckDB) plus
  the clustering of ``toolforge dedup``, with the engine given by ``--engine``
  (``duckdb`` by default; ``datasketch`` is toolforge's other engine);
- store (``--store-size N``): ``run_dedup`` on a store file of N one-turn
  records (planted-pair recall counts pairs in one cluster);
- baseline: what one writes with datasketch directly: a ``MinHash`` per record
  (``update_batch`` over its word set), ``MinHashLSH(threshold, num_perm)``
  insert, a query per record, candidates verified by Jaccard of the word sets.

Targets (issue 5): 1M records in under 3 minutes and under 4 GB on a 2-core
machine, time close to linear in the number of records. The ratio of the
baseline's time to toolforge's is printed last.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEMPLATES = [
    "what is the {a} forecast for {b} on {c} and should I bring {d}",
    "please send {a} an email about the {b} {c} meeting moved to {d}",
    "book a table for {a} at {b} near {c} around {d} tonight",
    "find cheap flights from {a} to {b} leaving {c} with {d} luggage",
    "translate the {a} {b} into {c} and keep the {d} terms",
    "remind me to call {a} about the {b} invoice every {c} until {d}",
    "how many {a} are left in the {b} warehouse for the {c} {d} order",
    "search the web for {a} {b} reviews and summarise the {c} {d} ones",
    "convert {a} {b} to {c} using the {d} exchange rate",
    "list the files in {a} that mention {b} {c} and were edited {d}",
    "schedule a {a} call with {b} and {c} next {d} afternoon",
    "what did {a} say about the {b} {c} in the {d} thread",
]
_SYL = ["ka", "lo", "mi", "ru", "te", "sa", "no", "vi", "de", "po", "fa", "zu", "ri", "gen", "tor", "bel", "an", "os"]


def generate(n: int, seed: int = 7) -> tuple[list[str], list[tuple[int, int]]]:
    """n requests, 10% of them planted near duplicates of an earlier one: (texts, planted pairs)."""
    rng = random.Random(seed)
    vocab = sorted({"".join(rng.choice(_SYL) for _ in range(rng.randint(2, 4))) for _ in range(30000)})
    texts: list[str] = []
    planted: list[tuple[int, int]] = []
    for i in range(n):
        if i >= 10 and i % 10 == 9:
            src = rng.randrange(i - 9, i)
            words = texts[src].split()
            j = rng.randrange(len(words) - 1)
            words[j], words[j + 1] = words[j + 1], words[j]
            if rng.random() < 0.5:
                words[rng.randrange(len(words))] = rng.choice(vocab)
            words = [w.upper() if rng.random() < 0.15 else w for w in words]
            texts.append(" ".join(words).capitalize() + rng.choice(["?", "!", ".", " please?"]))
            planted.append((src, i))
        else:
            tpl = TEMPLATES[rng.randrange(len(TEMPLATES))]
            extra = " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 6)))
            texts.append(tpl.format(a=rng.choice(vocab), b=rng.choice(vocab), c=rng.choice(vocab),
                                    d=rng.choice(vocab)) + (" " + extra if extra else ""))
    return texts, planted


def run_toolforge(texts: list[str], threshold: float, num_perm: int, engine: str) -> list[tuple[int, int]]:
    import numpy as np

    from toolforge.dedup.minhash import find_near_duplicates
    from toolforge.dedup.run import components

    pairs = find_near_duplicates(texts, threshold=threshold, num_perm=num_perm, engine=engine)
    if pairs:
        a, b, s = (np.asarray(x) for x in zip(*pairs, strict=True))
        components(a, b, s)
    return [(a, b) for a, b, _ in pairs]


_PUNCT = re.compile(r"[^\w]+")


def run_baseline(texts: list[str], threshold: float, num_perm: int) -> list[tuple[int, int]]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sets: list[set[str]] = []
    sigs = []
    for i, text in enumerate(texts):
        words = set(_PUNCT.sub(" ", text.lower()).split())
        m = MinHash(num_perm=num_perm)
        m.update_batch([w.encode("utf-8") for w in words])
        lsh.insert(i, m, check_duplication=False)
        sets.append(words)
        sigs.append(m)
    pairs = set()
    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            if j > i:
                a, b = sets[i], sets[j]
                if len(a & b) / len(a | b) >= threshold:
                    pairs.add((i, j))
    return sorted(pairs)


def run_store(texts: list[str], threshold: float, num_perm: int) -> tuple[list[tuple[int, int]], float]:
    """``toolforge dedup --method near`` over a store file holding the texts as one-turn records."""
    import tempfile

    from toolforge.dedup import clusters, make_config, run_dedup
    from toolforge.store import open_store

    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "bench.duckdb") as store:
        store.con.execute(
            "INSERT INTO records (id, scenario, tools, messages, meta, source) "
            "SELECT 'r' || lpad(CAST(i - 1 AS VARCHAR), 9, '0'), 'single_tool', '[]', "
            "json_array(json_object('role', 'user', 'content', t)), '{}', 'bench' "
            "FROM (SELECT unnest(?::VARCHAR[]) AS t, generate_subscripts(?::VARCHAR[], 1) AS i)", [texts, texts])
        t0 = time.perf_counter()
        run_dedup(store, make_config(method="near", threshold=threshold, num_perm=num_perm))
        seconds = time.perf_counter() - t0
        members = clusters(store, "near")
    by_cluster: dict[str, list[int]] = {}
    for rid, cid in members.items():
        by_cluster.setdefault(cid, []).append(int(rid[1:]))
    return sorted((min(m), x) for m in by_cluster.values() for x in m if x != min(m)), seconds


def child(args: argparse.Namespace) -> None:
    texts, planted = generate(args.n, args.seed)
    # imports are not timed
    import datasketch  # noqa: F401

    import toolforge.dedup.minhash
    import toolforge.dedup.run  # noqa: F401

    t0 = time.perf_counter()
    if args.child == "store":  # timed: run_dedup only (not filling the store)
        pairs, seconds = run_store(texts, args.threshold, args.num_perm)
    else:
        if args.child == "baseline":
            pairs = run_baseline(texts, args.threshold, args.num_perm)
        else:
            pairs = run_toolforge(texts, args.threshold, args.num_perm, args.child.split(":", 1)[1])
        seconds = time.perf_counter() - t0
    found = set(pairs)
    recall = sum(1 for p in planted if p in found) / len(planted) if planted else 1.0
    print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "pairs": len(pairs), "planted_recall": recall}))


def measure(what: str, n: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", what, "--n", str(n), "--threshold", str(args.threshold),
           "--num-perm", str(args.num_perm), "--seed", str(args.seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{what} at {n} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{what:22s} {n:>9,d} records  {res['seconds']:8.1f} s  peak {res['peak_mb']:7.0f} MB  "
          f"{res['pairs']:>8,d} pairs  planted recall {res['planted_recall']:.3f}", flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated record counts")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--num-perm", type=int, default=64)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--engine", default="duckdb", choices=["duckdb", "datasketch"], help="toolforge's engine")
    ap.add_argument("--also-engine", action="store_true", help="also time toolforge's other engine at the smallest size")
    ap.add_argument("--baseline-max", type=int, default=None, help="skip the baseline above this size")
    ap.add_argument("--store-size", type=int, default=0,
                    help="also time `toolforge dedup --method near` end to end on a store of this many records "
                         "(timed: run_dedup, which reads the records' JSON, builds the scope and writes clusters)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of toolforge per size, alternating sizes; the fastest of each is used for the growth factor")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"near dedup, threshold {args.threshold}, {args.num_perm} permutations, word shingles; "
          f"python {sys.version.split()[0]}", flush=True)
    results: dict[tuple[str, int], dict] = {}
    tf = f"toolforge:{args.engine}"
    for _ in range(args.repeat):  # alternate the sizes; keep each size's fastest run (the machine is shared)
        for n in sizes:
            res = measure(tf, n, args)
            if (tf, n) not in results or res["seconds"] < results[(tf, n)]["seconds"]:
                results[(tf, n)] = res
    for n in sizes:
        if args.also_engine and n == min(sizes):
            other = "datasketch" if args.engine == "duckdb" else "duckdb"
            results[(f"toolforge:{other}", n)] = measure(f"toolforge:{other}", n, args)
        if args.baseline_max is None or n <= args.baseline_max:
            results[("baseline", n)] = measure("baseline", n, args)
    if args.store_size:
        results[("store", args.store_size)] = measure("store", args.store_size, args)
    lo, hi = min(sizes), max(sizes)
    if lo != hi:
        r = results[(tf, hi)]["seconds"] / results[(tf, lo)]["seconds"]
        print(f"planted recall: {results[(tf, lo)]['planted_recall']:.3f} at {lo:,d}, "
              f"{results[(tf, hi)]['planted_recall']:.3f} at {hi:,d}")
        print(f"growth factor {lo:,d} -> {hi:,d} records: {r:.2f}x time (linear: {hi / lo:.0f}x; "
              f"target <= {1.2 * hi / lo:.0f}x)")
        mem_ok = results[(tf, hi)]["peak_mb"] < 4096
        print(f"target at {hi:,d}: under 180 s -> {results[(tf, hi)]['seconds'] < 180}, under 4 GB -> {mem_ok}")
    for n in sorted(sizes, reverse=True):
        if ("baseline", n) in results:
            ratio = results[("baseline", n)]["seconds"] / results[(tf, n)]["seconds"]
            print(f"speedup over datasketch MinHashLSH (pure Python) at {n:,d} records: {ratio:.1f}x")
            break


if __name__ == "__main__":
    main()
