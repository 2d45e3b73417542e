"""`toolforge import --format ...` and `toolforge eval` end to end through the CLI, on a real DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "import_samples"


@pytest.mark.parametrize("fmt,name,n", [
    ("xlam", "xlam.jsonl", 3), ("hermes", "hermes.jsonl", 3), ("glaive", "glaive.jsonl", 2),
    ("sharegpt", "sharegpt.jsonl", 2), ("toolace", "toolace.jsonl", 2), ("bfcl", "bfcl/BFCL_v4_sample.json", 4),
])
def test_import_each_format_into_the_store(run_cli, tmp_db, fmt, name, n):
    proc = run_cli("import", SAMPLES / name, "--format", fmt, "--db", tmp_db, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"lines": n, "imported": n, "already_stored": 0, "skipped": 0}
    again = run_cli("import", SAMPLES / name, "--format", fmt, "--db", tmp_db, "--json")
    assert json.loads(again.stdout)["already_stored"] == n      # idempotent
    con = duckdb.connect(str(tmp_db), read_only=True)
    rows = con.execute("SELECT scenario, source, meta FROM records").fetchall()
    con.close()
    assert len(rows) == n and all(src == f"import:{fmt}" for _, src, _ in rows)
    assert all(json.loads(meta)["source_format"] == fmt for _, _, meta in rows)
    assert all(scen is not None for scen, _, _ in rows)


def test_bad_lines_are_reported_by_number(run_cli, tmp_db, tmp_path):
    src = tmp_path / "mixed.jsonl"
    good = (SAMPLES / "xlam.jsonl").read_text().splitlines()[0]
    src.write_text(good + "\n" + json.dumps({"query": "q", "tools": "[broken", "answers": "[]"}) + "\n{nope\n")
    proc = run_cli("import", src, "--format", "xlam", "--db", tmp_db)
    assert proc.returncode == 2
    assert f"error: {src}:2: tools:" in proc.stderr and "(1 more bad lines)" in proc.stderr
    ok = run_cli("import", src, "--format", "xlam", "--db", tmp_db, "--skip-invalid", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["imported"] == 1
    assert f"{src}:2: skipped: tools:" in ok.stderr and f"{src}:3: skipped: not JSON" in ok.stderr


def _refs(tmp_path, sample_dicts):
    refs = tmp_path / "refs.jsonl"
    rows = [dict(d, id=f"r{i}") for i, d in enumerate(sample_dicts)]
    refs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return refs, rows


def _gold_predictions(rows, *, raw=False):
    from toolforge.formats import get_renderer  # noqa: F401  (the family exists)

    out = []
    for r in rows:
        for i, m in enumerate(r["messages"]):
            if m["role"] != "assistant":
                continue
            calls = [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in m.get("tool_calls") or []]
            if raw:
                text = "".join(f"<tool_call>\n{json.dumps(c)}\n</tool_call>\n" for c in calls) or (m.get("content") or "ok")
                out.append({"id": r["id"], "turn": i, "output": text})
            else:
                out.append({"id": r["id"], "turn": i, "tool_calls": calls})
    return out


def test_eval_scores_raw_outputs_with_a_family_and_compares(run_cli, tmp_path, sample_dicts):
    refs, rows = _refs(tmp_path, sample_dicts)
    preds = tmp_path / "preds.jsonl"
    gold = _gold_predictions(rows, raw=True)
    preds.write_text("".join(json.dumps(p) + "\n" for p in gold))
    proc = run_cli("eval", "--references", refs, "--predictions", preds, "--family", "hermes", "--json", "--out", tmp_path / "a")
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    ov = res["overall"]
    assert ov["counts"]["turns"] == len(gold)
    assert [ov[m] for m in ("precision", "recall", "f1", "json_validity", "argument_correctness",
                            "no_tool_accuracy", "exact_match")] == [1.0] * 7
    assert set(res["by_scenario"]) == {r["scenario"] for r in rows}
    # a worse model: every first call dropped, and one broken output
    worse = []
    for p in gold:
        if "<tool_call>" in p["output"]:
            p = dict(p, output="I would rather not.") if len(worse) % 2 else dict(p, output="<tool_call>{broken</tool_call>")
        worse.append(p)
    (tmp_path / "worse.jsonl").write_text("".join(json.dumps(p) + "\n" for p in worse))
    proc_b = run_cli("eval", "-r", refs, "-p", tmp_path / "worse.jsonl", "--family", "hermes", "--out", tmp_path / "b")
    assert proc_b.returncode == 0, proc_b.stderr
    assert "overall" in proc_b.stdout and "no_tool_needed" in proc_b.stdout   # the table
    b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert b["overall"]["recall"] == 0.0 and b["overall"]["json_validity"] < 1.0
    cmp = run_cli("eval", "--compare", tmp_path / "a", tmp_path / "b", "--json")
    assert cmp.returncode == 0, cmp.stderr
    rows_cmp = {(r["group"], r["metric"]): r for r in json.loads(cmp.stdout)["rows"]}
    assert rows_cmp[("overall", "recall")]["delta"] == -1.0
    table = run_cli("eval", "--compare", tmp_path / "a", tmp_path / "b")
    assert table.returncode == 0 and "-1.000" in table.stdout


def test_eval_bad_input_is_reported_clearly(run_cli, tmp_path, sample_dicts):
    refs, rows = _refs(tmp_path, sample_dicts)
    preds = tmp_path / "p.jsonl"
    gold = _gold_predictions(rows)
    preds.write_text("".join(json.dumps(p) + "\n" for p in gold))

    def err(*args):
        proc = run_cli("eval", *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert lines[0].startswith("error: ") and "Traceback" not in proc.stderr
        return proc.stderr

    assert "Invalid value for '--family': 'nope' is not one of 'hermes'" in err("-r", refs, "-p", preds, "--family", "nope")
    short = tmp_path / "short.jsonl"
    short.write_text("".join(json.dumps(p) + "\n" for p in gold[:-1]))
    assert "do not line up" in err("-r", refs, "-p", short) and "have no prediction" in err("-r", refs, "-p", short)
    stray = tmp_path / "stray.jsonl"
    stray.write_text(preds.read_text() + json.dumps({"id": "zzz", "turn": 1, "output": ""}) + "\n")
    assert "no reference with id 'zzz'" in err("-r", refs, "-p", stray)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(preds.read_text() + "{half a line\n")
    assert f"line {len(gold) + 1}: not JSON" in err("-r", refs, "-p", broken)
    raw = tmp_path / "raw.jsonl"
    raw.write_text("".join(json.dumps({"id": p["id"], "turn": p["turn"], "output": "x"}) + "\n" for p in gold))
    assert "--family" in err("-r", refs, "-p", raw)
    bad_refs = tmp_path / "bad_refs.jsonl"
    bad_refs.write_text('{"messages": "nope"}\n')
    assert "bad_refs.jsonl: line 1" in err("-r", bad_refs, "-p", preds)
    assert "exactly one of --predictions" in err("-r", refs)
    assert "file not found" in err("-r", tmp_path / "missing.jsonl", "-p", preds)
    assert "Invalid value for '--match': 'fuzzy' is not one of 'exact', 'bfcl'" in err("-r", refs, "-p", preds, "--match", "fuzzy")
    bfcl_q = SAMPLES / "bfcl" / "BFCL_v4_sample.json"
    assert "score BFCL files with --bfcl" in err("-r", bfcl_q, "-p", preds)
    lonely = tmp_path / "BFCL_v4_sample.json"          # a question file without possible_answer/
    lonely.write_text(bfcl_q.read_text())
    assert "no answer file" in err("--bfcl", "-r", lonely, "-p", preds)
    assert "unknown BFCL category" in err("--bfcl", "-r", bfcl_q, "-p", preds, "--category", "simple_java")


def test_eval_a_split_of_the_store_and_keep_the_result(run_cli, filled_db, tmp_path):
    from toolforge.export import latest_splits
    from toolforge.store import open_store

    exp = run_cli("export", "--format", "openai", "--out", tmp_path / "exp", "--test-fraction", "0.5",
                  "--status", "any", "--db", filled_db)
    assert exp.returncode == 0, exp.stderr
    with open_store(filled_db, read_only=True) as store:
        test_ids = [rid for rid, split in latest_splits(store).items() if split == "test"]
        rows = [store.get_record(rid).to_dict() for rid in test_ids]
    assert rows
    preds = tmp_path / "p.jsonl"
    gold = _gold_predictions(rows)
    preds.write_text("".join(json.dumps(p) + "\n" for p in gold))
    proc = run_cli("eval", "--split", "test", "--db", filled_db, "--predictions", preds, "--json")
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["overall"]["counts"]["turns"] == len(gold) and res["overall"]["exact_match"] == 1.0
    assert res["run_id"].startswith("eval-") and "stored as eval run" in proc.stderr
    con = duckdb.connect(str(filled_db), read_only=True)
    n_turns = con.execute("SELECT count(*) FROM eval_turns WHERE run_id = ?", [res["run_id"]]).fetchone()[0]
    con.close()
    assert n_turns == len(gold)
    # a second run with one wrong call, compared by run id
    worse = [dict(p, tool_calls=[]) if p["tool_calls"] else p for p in gold]
    (tmp_path / "w.jsonl").write_text("".join(json.dumps(p) + "\n" for p in worse))
    proc2 = run_cli("eval", "--split", "test", "--db", filled_db, "--predictions", tmp_path / "w.jsonl", "--json")
    run2 = json.loads(proc2.stdout)["run_id"]
    cmp = run_cli("eval", "--compare", res["run_id"], run2, "--db", filled_db, "--json")
    assert cmp.returncode == 0, cmp.stderr
    deltas = {(r["group"], r["metric"]): r["delta"] for r in json.loads(cmp.stdout)["rows"]}
    assert deltas[("overall", "recall")] == -1.0
    as_refs = run_cli("eval", "--references", "test", "--db", filled_db, "--predictions", preds, "--json")
    assert as_refs.returncode == 0, as_refs.stderr                       # --references FILE_OR_SPLIT
    assert json.loads(as_refs.stdout)["overall"] == res["overall"]
    missing = run_cli("eval", "--split", "validation", "--db", filled_db, "--predictions", preds)
    assert missing.returncode == 2 and "holds no records" in missing.stderr
