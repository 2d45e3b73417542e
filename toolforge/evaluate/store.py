"""Eval results in the store (tables from migration ``m0700_eval``), so runs can be listed and compared."""

from __future__ import annotations

import json
from typing import Any

from toolforge.errors import InputError
from toolforge.store.db import Store


def save_result(store: Store, result: dict[str, Any], turns: list[dict[str, Any]]) -> str:
    """Store one eval result and its scored turns; returns the run id."""
    cfg = result.get("config", {})
    run_id = store.create_run("eval", name=cfg.get("model") or cfg.get("predictions"), config=cfg)
    groups = result["by_category"] if result["kind"] == "bfcl" else result["by_scenario"]
    refs = cfg.get("references") or f"split:{cfg.get('split')}"
    rows = []
    if result["kind"] == "bfcl":
        failed = {f["id"]: f for f in result.get("failures", [])}
        rows = [(run_id, t["id"], -1, t["category"], t["id"] not in failed, json.dumps(failed.get(t["id"], {})))
                for t in turns]
    else:
        rows = [(run_id, t["id"], t["turn"], t["scenario"], t["exact"], json.dumps(t, ensure_ascii=False))
                for t in turns]
    with store.transaction() as con:
        con.execute("INSERT INTO eval_runs (run_id, kind, model, refs, predictions, overall) VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, result["kind"], cfg.get("model"), refs, cfg.get("predictions", ""),
                     json.dumps(result["overall"])])
        con.executemany("INSERT INTO eval_groups (run_id, grp, metrics) VALUES (?, ?, ?)",
                        [(run_id, g, json.dumps(m)) for g, m in groups.items()])
        if rows:
            con.executemany("INSERT INTO eval_turns (run_id, record_id, turn, grp, correct, detail) "
                            "VALUES (?, ?, ?, ?, ?, ?)", rows)
    store.set_run_status(run_id, "done")
    return run_id


def load_run(store: Store, run_id: str) -> dict[str, Any]:
    """A stored eval result in the shape ``run_eval`` returns (without per-turn details)."""
    row = store.con.execute("SELECT kind, overall FROM eval_runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise InputError(f"no eval run {run_id!r} in {store.path}", hint="list them with SELECT run_id FROM eval_runs")
    kind, overall = row
    groups = {g: json.loads(m) for g, m in store.con.execute(
        "SELECT grp, metrics FROM eval_groups WHERE run_id = ? ORDER BY grp", [run_id]).fetchall()}
    run = store.get_run(run_id) or {}
    cfg = json.loads(run["config"]) if isinstance(run.get("config"), str) else (run.get("config") or {})
    key = "by_category" if kind == "bfcl" else "by_scenario"
    return {"kind": kind, "overall": json.loads(overall), key: groups, "config": cfg, "run_id": run_id}
