"""`toolforge stats --json` against figures computed independently in Python for a known store."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest

from toolforge.dedup import make_config, run_dedup
from toolforge.record import Record
from toolforge.stats import compute_stats
from toolforge.store import Selection, open_store


@dataclass
class FakeIssue:  # the validate area's Issue has these attributes
    code: str
    path: str
    message: str
    severity: str = "error"


@pytest.fixture
def known_store(tmp_db, sample_records):
    recs = list(sample_records)
    # an exact duplicate of the first record (same request and calls, another answer)
    d = recs[0].to_dict()
    d.pop("id")
    d["messages"][-1]["content"] = "Another answer entirely."
    dup = Record.model_validate(d)
    recs.append(dup)
    with open_store(tmp_db) as store:
        store.upsert_records(recs, source="test")
        ids = [r.id for r in sample_records]
        # validation: records 0-4 pass, 5-6 fail, 7 is not validated; record 6 also fails a second stage
        results = [(ids[i], []) for i in range(5)]
        results.append((ids[5], [FakeIssue("missing_required", "messages[2]", "city is required")]))
        results.append((ids[6], [FakeIssue("unknown_tool", "messages[2]", "no such tool"),
                                 FakeIssue("missing_required", "messages[4]", "x"),
                                 FakeIssue("style", "messages[5]", "long", "warning")]))
        store.replace_issues("schema", results)
        store.replace_issues("judge", [(ids[6], [FakeIssue("wrong_answer", "messages[-1]", "no")]), (ids[0], [])])
        run_dedup(store, make_config(method="exact"))
        store.con.execute("INSERT INTO review_verdicts (record_id, verdict) VALUES (?, 'accept'), (?, 'reject'), (?, 'accept')",
                          [ids[0], ids[1], ids[2]])
        if store.has_table("audio"):
            for i, (rid, dur, voice, ok) in enumerate([(ids[0], 3.5, "en-us", True), (ids[0], 5.0, "en-us+f2", True),
                                                       (ids[1], 7.25, "en-us", False)]):
                store.con.execute(
                    "INSERT INTO audio (record_id, turn, role, path, engine, voice, sample_rate, duration_s, qc_ok, qc, "
                    "text_sha) VALUES (?, ?, 'user', 'x.wav', 'espeak', ?, 24000, ?, ?, '{}', 'sha')",
                    [rid, i + 1, voice, dur, ok])
    return tmp_db, recs, ids, dup


def _expected_dist(values):
    arr = np.asarray(values, dtype=float)
    return {"median": round(float(np.median(arr)), 2), "p90": round(float(np.percentile(arr, 90)), 2),
            "min": int(arr.min()), "max": int(arr.max()), "mean": round(float(arr.mean()), 2)}


def test_stats_json_matches_independent_counts(known_store, run_cli):
    db, recs, ids, dup = known_store
    proc = run_cli("stats", "--json", "--db", db, "--catalog", "smol-tools", check=True)
    stats = json.loads(proc.stdout)

    # records per scenario and status (latest revisions, duplicates included)
    by = {r["scenario"]: r for r in stats["records"]["by_scenario"]}
    assert sum(r["total"] for r in by.values()) == stats["records"]["total"] == 9
    expected_total = Counter(r.scenario for r in recs)
    assert {s: r["total"] for s, r in by.items()} == dict(expected_total)
    status_of = {ids[i]: "valid" for i in range(5)} | {ids[5]: "invalid", ids[6]: "invalid"}
    for s in expected_total:
        in_s = [r.id for r in recs if r.scenario == s]
        assert by[s]["valid"] == sum(status_of.get(i) == "valid" for i in in_s)
        assert by[s]["invalid"] == sum(status_of.get(i) == "invalid" for i in in_s)
        assert by[s]["unvalidated"] == sum(i not in status_of for i in in_s)
        assert by[s]["duplicates"] == sum(i == dup.id for i in in_s)
    assert stats["records"]["duplicates"] == 1

    # everything else counts the selection: latest revisions, the duplicate skipped
    selected = [r for r in recs if r.id != dup.id]
    assert stats["selected"] == len(selected) == 8
    val = stats["validation"]
    assert val["validated"] == 7 and val["passed"] == 5 and val["pass_rate"] == round(5 / 7, 4)
    for row in val["by_scenario"]:
        in_s = [r.id for r in selected if (r.scenario or "(none)") == row["scenario"]]
        assert row["validated"] == sum(i in status_of for i in in_s)
        assert row["passed"] == sum(status_of.get(i) == "valid" for i in in_s)
    codes = {(c["scenario"], c["code"]): (c["records"], c["issues"]) for c in val["issue_codes"]}
    s5, s6 = recs[5].scenario, recs[6].scenario
    assert codes[(s6, "unknown_tool")] == (1, 1)
    assert codes[(s6, "wrong_answer")] == (1, 1)
    assert codes[(s6, "style")] == (1, 1)
    missing = Counter({s5: 1}) + Counter({s6: 1})
    for s, n in missing.items():
        assert codes[(s, "missing_required")][0] == n
    assert sum(v[1] for v in codes.values()) == 5

    # tools: calls per tool, records offering each tool, coverage
    calls = Counter(c.name for r in selected for c in r.calls)
    offered = Counter(n for r in selected for n in set(r.tool_names))
    usage = {u["tool"]: u for u in stats["tools"]["usage"]}
    assert {t: u["calls"] for t, u in usage.items() if u["calls"]} == dict(calls)
    assert {t: u["offered_in"] for t, u in usage.items() if u["offered_in"]} == dict(offered)
    assert stats["tools"]["offered"] == len(offered)
    assert stats["tools"]["called"] == len(set(calls) & set(offered))
    from toolforge.catalog import load_catalog

    cat = set(load_catalog("smol-tools").names)
    assert stats["tools"]["catalog"]["called"] == len(cat & set(calls))
    assert stats["tools"]["catalog"]["never_called"] == sorted(cat - set(calls))

    # shape: calls, messages, user turns, characters, words (median, p90 as quantile_cont)
    def check(got, values):
        exp = _expected_dist(values)
        for k, v in exp.items():
            assert got[k] == pytest.approx(v), (k, got, exp)
        hist = got["histogram"]
        assert sum(b["records"] for b in hist) == len(values)

    check(stats["calls_per_record"], [len(r.calls) for r in selected])
    check(stats["turns_per_record"]["messages"], [len(r.messages) for r in selected])
    check(stats["turns_per_record"]["user_turns"], [sum(m.role == "user" for m in r.messages) for r in selected])
    check(stats["lengths"]["chars"],
          [sum(len(m.content or "") + len(m.reasoning or "") for m in r.messages) for r in selected])
    check(stats["lengths"]["words"],
          [sum(len((m.content or "").split()) + len((m.reasoning or "").split()) for m in r.messages) for r in selected])

    # dedup, review, audio
    assert stats["duplicates"]["by_method"] == [{"method": "exact", "records": 1, "clusters": 1}]
    assert stats["review"]["available"] and {v["verdict"]: v["records"] for v in stats["review"]["verdicts"]} == {
        "accept": 2, "reject": 1}
    audio = stats["audio"]
    assert audio["available"] and audio["clips"] == 3
    assert audio["hours"] == round((3.5 + 5.0 + 7.25) / 3600, 4)
    assert audio["voices"] == 2 and audio["qc_failed"] == 1
    assert {v["voice"]: v["clips"] for v in audio["by_voice"]} == {"en-us": 2, "en-us+f2": 1}


def test_selection_narrows_the_figures(known_store):
    db, recs, ids, dup = known_store
    with open_store(db, read_only=True) as store:
        valid = compute_stats(store, Selection(status="valid"))
        with_dups = compute_stats(store, Selection(include_duplicates=True))
        one = compute_stats(store, Selection(scenarios=["single_tool"]))
    assert valid["selected"] == 5
    assert with_dups["selected"] == 9
    assert one["selected"] == sum(r.scenario == "single_tool" for r in recs if r.id != dup.id)
    assert [r["scenario"] for r in one["records"]["by_scenario"]] == ["single_tool"]


def test_degrades_without_other_stages(tmp_db, sample_records):
    with open_store(tmp_db) as store:
        store.upsert_records(sample_records, source="test")
        store.con.execute("DROP TABLE IF EXISTS audio")
        if store.has_table("generation_attempts"):
            store.con.execute("DROP TABLE generation_attempts")
        stats = compute_stats(store)
    assert stats["validation"] == {"available": False, "reason": "no validation results (run `toolforge validate`)"}
    assert stats["audio"]["available"] is False and "no audio table" in stats["audio"]["reason"]
    assert stats["review"]["available"] is False
    assert stats["generation"]["available"] is False
    assert stats["duplicates"] == {"by_method": [], "total": 0}
    assert stats["selected"] == 8


def test_empty_store(tmp_db, run_cli):
    with open_store(tmp_db):
        pass
    proc = run_cli("stats", "--json", "--db", tmp_db)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["records"]["total"] == 0 and stats["selected"] == 0
    assert stats["calls_per_record"]["median"] is None
    assert "holds no records" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_tables_without_validation_results(filled_db, run_cli):
    proc = run_cli("stats", "--db", filled_db)
    assert proc.returncode == 0, proc.stderr
    assert "validation: no validation results (run `toolforge validate`)" in proc.stderr
    assert "Records (8 latest revisions; 8 selected)" in proc.stdout
    assert "Tools (" in proc.stdout and "calls per record" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_stats_bad_options(filled_db, run_cli):
    proc = run_cli("stats", "--db", filled_db, "--status", "shiny")
    assert proc.returncode == 2 and proc.stderr.startswith("error: Invalid value for '--status': 'shiny' is not one of 'any',")
    proc = run_cli("stats", "--db", filled_db, "--catalog", "no-such-catalog")
    assert proc.returncode == 2 and proc.stderr.startswith("error: unknown catalog 'no-such-catalog'")


def test_generation_failures_leave_out_steps_that_went_through(tmp_path):
    """Stepwise runs store each step as an outcome 'step' row; only refused step replies are failures."""
    from toolforge.stats import _generation_section
    from toolforge.store import open_store

    with open_store(tmp_path / "s.duckdb") as store:
        rows = [("request", None), ("calls[0]", None), ("result:simulated", None), ("answer", None),
                ("request", "copied_example: the request copies single_tool#0"),
                ("request", "copied_example: the request copies single_tool#1"),
                ("calls[0]", "duplicate_call: the same call twice in one turn")]
        for k, (reason, detail) in enumerate(rows):
            store.con.execute("INSERT INTO generation_attempts (run_id, scenario, job, attempt, outcome, reason, detail) "
                              "VALUES ('r', 'single_tool', ?, 1, 'step', ?, ?)", [k, reason, detail])
        store.con.execute("INSERT INTO generation_attempts (run_id, scenario, job, attempt, outcome, reason) "
                          "VALUES ('r', 'single_tool', 9, 1, 'rejected', 'arg_ungrounded')")
        got = {(r["outcome"], r["reason"]): r["attempts"] for r in _generation_section(store)["failure_reasons"]}
    assert got == {("step", "request: copied_example"): 2, ("step", "calls[0]: duplicate_call"): 1,
                   ("rejected", "arg_ungrounded"): 1}
