"""Review push and pull of N records (default 10,000) against a real Label Studio server,
beside a bare label-studio-sdk bulk import and export of the same tasks, in the same run.

    .venv/bin/python benchmarks/bench_review.py [--n 10000]

- push: toolforge `push` (find or create the project, select from the store, build tasks, sync
  check, chunked import, task map written to the store) vs a bare SDK script: create the project,
  then one `import_tasks` call with the same task payloads (built beforehand, untimed).
- pull: toolforge `pull` (export, check every annotation against the labeling config, read
  verdicts and edits, resolve, write annotations/verdicts/revisions) vs a bare SDK JSON export
  of the same annotated project.

Prints the ratio bare/toolforge last (target: at least 0.8 for both).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.labelstudio import initialised_data_dir  # noqa: E402
from toolforge.record import Record  # noqa: E402
from toolforge.review import connect, pull, push  # noqa: E402
from toolforge.review.config import load_config  # noqa: E402
from toolforge.review.server import LabelStudioServer, load_credentials  # noqa: E402
from toolforge.review.tasks import build_task  # noqa: E402
from toolforge.store import Selection, open_store  # noqa: E402


def make_records(n: int) -> list[Record]:
    base = [json.loads(line) for line in (ROOT / "examples" / "sample.jsonl").read_text().splitlines() if line]
    out = []
    for i in range(n):
        d = json.loads(json.dumps(base[i % len(base)]))
        for m in d["messages"]:
            if m["role"] == "user":
                m["content"] = f"{m['content']} (request {i})"
                break
        out.append(Record.model_validate(d))
    return out


def reviewer_annotation(rec: Record, rng: random.Random) -> dict:
    verdict = rng.choice(["accept", "accept", "accept", "reject", "needs_fix"])
    result = [{"from_name": "verdict", "to_name": "dialogue", "type": "choices", "value": {"choices": [verdict]}},
              {"from_name": "rating", "to_name": "dialogue", "type": "rating", "value": {"rating": rng.randint(1, 5)}}]
    if rec.final_answer and rng.random() < 0.1:
        result.append({"from_name": "answer", "to_name": "dialogue", "type": "textarea",
                       "value": {"text": [rec.final_answer + " (checked)"]}})
    return {"result": result}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-review-"))
    shutil.copytree(initialised_data_dir(), work / "ls")
    server = LabelStudioServer(work / "ls", work).start(timeout=300)
    try:
        token = load_credentials(work / "ls")["token"]
        ls = connect(server.url, token)
        records = make_records(args.n)
        db = work / "store.duckdb"
        from toolforge.validate import validate_store

        with open_store(db) as st:
            st.upsert_records(records, source="bench")
            validate_store(st)
        config = load_config("text")
        tasks = [build_task(r) for r in records]
        print(f"{args.n} records, Label Studio at {server.url}", file=sys.stderr)

        # push: bare SDK bulk import vs toolforge push (fresh projects each)
        def bare_import():
            proj = ls.sdk.projects.create(title="bench bare import", label_config=config)
            return ls.sdk.projects.import_tasks(id=proj.id, request=tasks, return_task_ids=True)

        t_bare_push, _ = timed(bare_import)
        with open_store(db) as st:
            # every record, whatever other areas' validators say of the sample-derived ones
            t_tf_push, res = timed(lambda: push(st, ls, project_title="bench toolforge push",
                                                selection=Selection(status="any")))
        assert res.imported == args.n, res
        print(f"push: bare SDK import {t_bare_push:.2f} s, toolforge push {t_tf_push:.2f} s", file=sys.stderr)

        # pull: one annotation per task, imported with the tasks (set-up, not timed)
        rng = random.Random(7)
        annotated = [{**t, "annotations": [reviewer_annotation(r, rng)]} for t, r in zip(tasks, records, strict=True)]
        ann_proj = ls.create_project("bench annotated", config)
        ls.sdk.projects.import_tasks(id=ann_proj.id, request=annotated)

        def bare_export():
            raw = b"".join(ls.sdk.projects.exports.download_sync(id=ann_proj.id, export_type="JSON",
                                                                 download_all_tasks=False))
            return json.loads(raw)

        t_bare_pull, exported = timed(bare_export)
        assert len(exported) == args.n
        with open_store(db) as st:
            t_tf_pull, pres = timed(lambda: pull(st, ls, project_id=ann_proj.id))
        assert pres.annotations == args.n, pres
        print(f"pull: bare SDK export {t_bare_pull:.2f} s, toolforge pull {t_tf_pull:.2f} s "
              f"({pres.revisions} revisions, verdicts {pres.verdicts})", file=sys.stderr)
        print(f"push  {args.n} records: toolforge {t_tf_push:.2f} s, bare SDK {t_bare_push:.2f} s")
        print(f"pull  {args.n} records: toolforge {t_tf_pull:.2f} s, bare SDK {t_bare_pull:.2f} s")
        print(f"ratio bare/toolforge (target >= 0.8): push {t_bare_push / t_tf_push:.2f}, "
              f"pull {t_bare_pull / t_tf_pull:.2f}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
