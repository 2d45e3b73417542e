"""Export throughput: toolforge's openai and trl exports vs a plain json.dumps of the stored rows.

Baseline: read the records table with DuckDB and write each row's messages/tools as one JSON line
(no conversion). toolforge: `export_dataset` (selection, Record validation, split, conversion,
atomic write). Prints records/s for each, then the ratio toolforge/baseline LAST.

Run: .venv/bin/python benchmarks/bench_export.py [N]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolforge.export import ExportOptions, export_dataset  # noqa: E402
from toolforge.record import Record  # noqa: E402
from toolforge.store import Selection, open_store  # noqa: E402


def main(n: int) -> None:
    samples = [json.loads(x) for x in (ROOT / "examples" / "sample.jsonl").read_text().splitlines() if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        with open_store(db) as store:
            recs = []
            for i in range(n):
                d = json.loads(json.dumps(samples[i % len(samples)]))
                d["messages"][1]["content"] += f" (variant {i})"
                recs.append(Record.model_validate(d))
            store.upsert_records(recs, source="bench")

            t0 = time.perf_counter()
            out = Path(tmp) / "baseline.jsonl"
            with out.open("w") as fh:
                for tools, messages in store.con.execute("SELECT tools, messages FROM records").fetchall():
                    fh.write(json.dumps({"messages": json.loads(messages), "tools": json.loads(tools)}) + "\n")
            base = time.perf_counter() - t0

            timings = {}
            for fmt in ("openai", "trl"):
                t0 = time.perf_counter()
                export_dataset(store, ExportOptions(format=fmt, out=Path(tmp) / fmt, test_fraction=0.1,
                                                    selection=Selection(status="any")))
                timings[fmt] = time.perf_counter() - t0
    print(f"records: {n}")
    print(f"baseline json.dumps: {n / base:,.0f} records/s")
    for fmt, t in timings.items():
        print(f"toolforge export {fmt}: {n / t:,.0f} records/s")
    print(f"ratio toolforge openai / baseline (throughput): {base / timings['openai']:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
