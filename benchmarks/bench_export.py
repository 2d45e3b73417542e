"""Export throughput: `export --format openai`, `--format trl` and the push staging against a plain
json.dumps of the same stored rows, same run.

Baseline: read the records table with DuckDB and write each row's messages/tools as one JSON line
(decode, no conversion, encode). toolforge: `export_dataset` (selection, split, conversion, atomic
write, manifest, split membership in the store) for openai and trl, and the push staging
(`select_records` + `make_splits` + `stage_dataset`, Parquet shards and the manifest). Writers that
declare `PLAIN = True` read the stored JSON without building a Record model per record; the
model path (what the writers did before) is timed too, for comparison. `datasets` is imported before
any timing (a one-off 2-3 s that does not grow with the records).

Prints records/s for each and their ratio to the baseline; target >= 0.5 for trl, openai and staging.

Run: .venv/bin/python benchmarks/bench_export.py [N] [REPEAT]   (default 10,000 records, best of 2 alternating runs)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolforge.export import ExportOptions, export_dataset, make_splits, select_records  # noqa: E402
from toolforge.record import Record  # noqa: E402
from toolforge.store import Selection, open_store  # noqa: E402


def main(n: int, repeat: int = 2) -> None:
    import datasets  # noqa: F401  (the import is a fixed cost, not a per-record one)
    from toolforge.export import base as export_base
    from toolforge.hub.stage import stage_dataset

    samples = [json.loads(x) for x in (ROOT / "examples" / "sample.jsonl").read_text().splitlines() if x.strip()]
    load = os.getloadavg()[0]
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        with open_store(db) as store:
            recs = []
            for i in range(n):
                d = json.loads(json.dumps(samples[i % len(samples)]))
                d["messages"][1]["content"] += f" (variant {i})"
                recs.append(Record.model_validate(d))
            store.upsert_records(recs, source="bench")
            del recs

            sel = Selection(status="any")

            def baseline() -> None:
                with (Path(tmp) / "baseline.jsonl").open("w") as fh:
                    for tools, messages in store.con.execute("SELECT tools, messages FROM records").fetchall():
                        fh.write(json.dumps({"messages": json.loads(messages), "tools": json.loads(tools)}) + "\n")

            def export(fmt: str) -> None:
                export_dataset(store, ExportOptions(format=fmt, out=Path(tmp) / fmt, test_fraction=0.1, selection=sel))

            def staging() -> None:
                splits = make_splits(store, select_records(store, sel, plain=True), test_fraction=0.1, seed=0)
                stage_dataset(store, splits, Path(tmp) / "stage", think="tags")

            runs = {"baseline json.dumps": baseline, "export openai": lambda: export("openai"),
                    "export trl": lambda: export("trl"), "push staging": staging}
            for _ in range(repeat):  # alternate, keep the best of each (the machine is shared)
                for label, fn in runs.items():
                    t0 = time.perf_counter()
                    fn()
                    rates[label] = max(rates.get(label, 0.0), n / (time.perf_counter() - t0))

            # the model path, as the writers ran before (a Record per record), for comparison
            saved = export_base.plain_records
            for fmt in ("openai", "trl"):
                mod = __import__(f"toolforge.export.{fmt}", fromlist=["PLAIN"])
                mod.PLAIN = False
                try:
                    t0 = time.perf_counter()
                    export_dataset(store, ExportOptions(format=fmt, out=Path(tmp) / f"{fmt}-model", test_fraction=0.1,
                                                        selection=sel))
                    rates[f"  (before: {fmt} through Record models)"] = n / (time.perf_counter() - t0)
                finally:
                    mod.PLAIN = True
            assert export_base.plain_records is saved
            same = all((Path(tmp) / fmt / f"{s}.{ext}").read_bytes() == (Path(tmp) / f"{fmt}-model" / f"{s}.{ext}").read_bytes()
                       for fmt, ext in (("openai", "jsonl"), ("trl", "parquet")) for s in ("train", "test"))
    base = rates["baseline json.dumps"]
    print(f"records: {n}; load average at start {load:.2f} (a shared 2-core machine)")
    for label, r in rates.items():
        print(f"{label:40s} {r:10,.0f} records/s   ratio to baseline {r / base:5.2f}")
    print(f"plain and model paths wrote byte-identical files: {'yes' if same else 'NO'}")
    worst = min(rates["export openai"], rates["export trl"], rates["push staging"]) / base
    print(f"ratio (worst of openai, trl, staging) / baseline (throughput): {worst:.2f} "
          f"(target >= 0.5: {'met' if worst >= 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000, int(sys.argv[2]) if len(sys.argv) > 2 else 2)
