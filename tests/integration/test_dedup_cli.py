"""`toolforge dedup` end to end on a real store file: methods, --against, bad input."""

from __future__ import annotations

import json

import pytest

from tests.unit.dedup.corpus import make_corpus, make_record
from toolforge.store import open_store

pytestmark = pytest.mark.integration


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in records))
    return path


@pytest.fixture
def corpus_db(tmp_path, run_cli):
    corpus = make_corpus(n_distinct=200, n_exact=20, n_near=30, seed=11)
    src = _write_jsonl(tmp_path / "corpus.jsonl", corpus.records)
    db = tmp_path / "c.duckdb"
    run_cli("import", src, "--db", db, check=True)
    return db, corpus


def test_exact_then_near_cli(corpus_db, run_cli):
    db, corpus = corpus_db
    exact = json.loads(run_cli("dedup", "--method", "exact", "--db", db, "--json", check=True).stdout)
    assert exact["records"] == 250 and exact["clusters"] == 20 and exact["marked"] == 20
    near = json.loads(run_cli("dedup", "--method", "near", "--threshold", "0.8", "--db", db, "--json", check=True).stdout)
    assert near["records"] == 230 and near["engine"] == "duckdb"
    assert 0.95 * 30 <= near["marked"] <= 30
    listed = json.loads(run_cli("list", "--db", db, "--json", check=True).stdout)
    assert len(listed) == 250  # marked, not deleted
    proc = run_cli("dedup", "--method", "near", "--db", db, check=True)  # human output: a table on stdout
    assert "largest clusters" in proc.stdout and "near dedup:" in proc.stderr
    stats = json.loads(run_cli("stats", "--db", db, "--json", check=True).stdout)
    assert {m["method"]: m["records"] for m in stats["duplicates"]["by_method"]} == {"exact": 20, "near": near["marked"]}
    assert stats["selected"] == 250 - 20 - near["marked"]  # what later stages see


def test_against_eval_file_and_bfcl(tmp_path, run_cli, sample_path):
    db = tmp_path / "a.duckdb"
    run_cli("import", sample_path, "--db", db, check=True)
    # a record whose request is a BFCL question, with other punctuation and case
    bfcl_q = json.loads(_bfcl_file().read_text().splitlines()[0])["question"][0][0]["content"]
    leaked = make_record(bfcl_q.upper() + " !!", "q", "t", "answer")
    fresh = make_record("A request nobody has ever written down anywhere, about zebra kites", "q", "t", "answer")
    run_cli("import", _write_jsonl(tmp_path / "extra.jsonl", [leaked, fresh]), "--db", db, check=True)
    for method in ("exact", "near"):
        res = json.loads(run_cli("dedup", "--method", method, "--against", _bfcl_file().parent, "--db", db, "--json",
                                 check=True).stdout)
        assert res["marked"] == 1, res
        assert res["largest"][0]["record_id"] == leaked.id
    # an eval split file: the sample records themselves
    res = json.loads(run_cli("dedup", "--method", "exact", "--against", sample_path, "--db", db, "--json",
                             check=True).stdout)
    assert res["marked"] == 8 and res["reference_items"] == 8
    with open_store(db, read_only=True) as store:
        marks = dict(store.con.execute("SELECT record_id, cluster_id FROM dedup_marks WHERE method = 'against'").fetchall())
        refs = store.con.execute("SELECT DISTINCT reference FROM dedup_contamination ORDER BY 1").fetchall()
    assert len(marks) == 9 and fresh.id not in marks
    assert len(refs) == 2


def _bfcl_file():
    from tests.conftest import SHARED

    path = SHARED / "bfcl" / "BFCL_v4_simple_python.json"
    assert path.exists(), f"BFCL acceptance data missing at {path}"
    return path


def test_semantic_with_the_packaged_model(tmp_path, run_cli):
    """The real model, in this process (sentence-transformers takes long to import: once is enough)."""
    from toolforge.dedup import clusters, make_config, run_dedup

    texts = ["What's the weather like in Oslo right now?", "How is the weather in Oslo at the moment?",
             "Tell me the current weather in Oslo.", "Send an email to Anna saying the meeting moved to Friday.",
             "Email Anna that the meeting is now on Friday.", "What's the weather like in Paris right now?",
             "Book a table for two at an Italian restaurant tonight.", "Translate 'good morning' into French."]
    recs = [make_record(t, f"q{i}", "t", f"answer {i}") for i, t in enumerate(texts)]
    db = tmp_path / "s.duckdb"
    run_cli("import", _write_jsonl(tmp_path / "s.jsonl", recs), "--db", db, check=True)
    ref = _write_jsonl(tmp_path / "test.jsonl", [make_record("Could you translate good morning to French?", "x", "y", "z")])
    with open_store(db) as store:
        res = run_dedup(store, make_config(method="semantic"))
        assert res.clusters == 2 and res.marked == 3
        cl = clusters(store, "semantic")
        assert store.con.execute("SELECT count(*) FROM dedup_embeddings").fetchone()[0] == 8
        # decontamination by meaning: a paraphrase of a held-out question
        against = run_dedup(store, make_config(method="semantic", against=str(ref)))
    assert cl[recs[0].id] == cl[recs[1].id] == cl[recs[2].id]
    assert cl[recs[3].id] == cl[recs[4].id] != cl[recs[0].id]
    assert not {recs[5].id, recs[6].id, recs[7].id} & set(cl)
    assert against.marked == 1 and against.largest[0]["record_id"] == recs[7].id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "fuzzy"], "Invalid value for '--method': 'fuzzy' is not one of 'exact', 'near', 'semantic'"),
        (["--method", "near", "--threshold", "1.5"], "threshold must be greater than 0 and at most 1"),
        (["--method", "near", "--threshold", "-1"], "threshold must be greater than 0 and at most 1"),
        (["--method", "exact", "--threshold", "0.5"], "--threshold applies to the near and semantic methods"),
        (["--method", "near", "--engine", "faiss"], "Invalid value for '--engine': 'faiss' is not one of 'duckdb', 'datasketch'"),
        (["--method", "near", "--against", "no/such/file.jsonl"], "no file or folder no/such/file.jsonl"),
    ],
)
def test_bad_input(tmp_path, run_cli, sample_path, args, message):
    db = tmp_path / "b.duckdb"
    run_cli("import", sample_path, "--db", db, check=True)
    proc = run_cli("dedup", *args, "--db", db)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    with open_store(db, read_only=True) as store:  # nothing stored is lost or marked
        assert store.count_records() == 8
        assert store.con.execute("SELECT count(*) FROM dedup_marks").fetchone()[0] == 0


def test_empty_and_missing_store(tmp_path, run_cli):
    db = tmp_path / "empty.duckdb"
    with open_store(db):
        pass
    proc = run_cli("dedup", "--method", "near", "--db", db)
    assert proc.returncode == 2 and "error: no records to deduplicate" in proc.stderr
    assert "hint: import or generate records first" in proc.stderr
    proc = run_cli("dedup", "--method", "exact", "--db", tmp_path / "nope" / "x.duckdb")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_bad_reference_file(tmp_path, run_cli, sample_path):
    db = tmp_path / "r.duckdb"
    run_cli("import", sample_path, "--db", db, check=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\nnot json\n')
    proc = run_cli("dedup", "--method", "exact", "--against", bad, "--db", db)
    assert proc.returncode == 2 and f"{bad}:2: not valid JSON" in proc.stderr
    empty = tmp_path / "nothing.jsonl"
    empty.write_text('{"foo": 1}\n')
    proc = run_cli("dedup", "--method", "exact", "--against", empty, "--db", db)
    assert proc.returncode == 2 and "found no user requests" in proc.stderr


def test_scenario_session_takes_the_sessions_only(tmp_path, run_cli):
    """`-s session` scopes dedup to multi-turn sessions (scenario None), as stats/export select them."""
    from tests.fixtures.sessions import mixed_store
    from tests.helpers import store_digest

    db = tmp_path / "mixed.duckdb"
    ids = mixed_store(db, sessions=2)  # the two sessions: the same request and calls (exact duplicates)
    before = store_digest(db)
    only = json.loads(run_cli("dedup", "--method", "exact", "-s", "session", "--dry-run", "--db", db, "--json",
                              check=True).stdout)
    assert (only["records"], only["clusters"], only["marked"]) == (2, 1, 1), only
    assert only["largest"][0]["kept_id"] in ids["session"] and only["largest"][0]["size"] == 2
    assert store_digest(db) == before  # a dry run writes nothing
    single = json.loads(run_cli("dedup", "--method", "exact", "-s", "single_tool", "--dry-run", "--db", db, "--json",
                                check=True).stdout)
    assert (single["records"], single["marked"]) == (1, 0)
    both = json.loads(run_cli("dedup", "--method", "exact", "-s", "session", "-s", "single_tool", "--db", db,
                              "--json", check=True).stdout)
    assert (both["records"], both["marked"]) == (3, 1)
    with open_store(db, read_only=True) as store:
        (marked,) = store.con.execute("SELECT record_id FROM dedup_marks").fetchall()
    assert marked[0] in ids["session"]
