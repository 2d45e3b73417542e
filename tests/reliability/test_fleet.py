"""A teacher fleet over real loopback servers: one replica dies mid-run, the run still ends
with exactly the target count, in one store and one run, and the survivors took the rest."""

from __future__ import annotations

import json
import threading
import time

import duckdb
import pytest

from tests.reliability.fleet_server import Replica

N_PER = 20  # per scenario
SCENARIOS = ("no_tool_needed", "single_tool")  # the replicas' schema-driven answers pass these most often


@pytest.fixture
def replicas():
    reps = [Replica(latency=0.03, capacity=4).start() for _ in range(3)]
    yield reps
    for r in reps:
        r.stop()


def _kill_after(rep: Replica, answered: int) -> threading.Thread:
    def watch() -> None:
        deadline = time.monotonic() + 120
        while rep.answered < answered and time.monotonic() < deadline:
            time.sleep(0.005)
        rep.kill()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_one_endpoint_dies_mid_run_and_the_run_still_ends_with_exactly_n(run_cli, tmp_path, replicas):
    db = tmp_path / "fleet.duckdb"
    watcher = _kill_after(replicas[0], 8)
    args = ["generate", "--n", str(N_PER), "--seed", "3", "--concurrency", "12", "--max-attempts", "6",
            "--db", db, "--json", "--teacher-option", "timeout=5"]
    for s in SCENARIOS:
        args += ["--scenario", s]
    for r in replicas:
        args += ["--teacher", f"openai:m@{r.url}"]
    proc = run_cli(*args, timeout=300)
    watcher.join(timeout=5)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["status"] == "done"
    assert replicas[0].dead and 8 <= replicas[0].answered < len(SCENARIOS) * N_PER
    assert replicas[1].answered > 0 and replicas[2].answered > 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        counts = dict(con.execute("SELECT scenario, count(*) FROM records GROUP BY 1").fetchall())
        runs = con.execute("SELECT count(*), min(status) FROM runs WHERE kind = 'generate'").fetchone()
        cfg = json.loads(con.execute("SELECT config FROM runs WHERE kind = 'generate'").fetchone()[0])
    finally:
        con.close()
    assert counts == dict.fromkeys(SCENARIOS, N_PER)
    assert runs == (1, "done")
    assert [t["spec"] for t in cfg["teachers"]] == [f"openai:m@{r.url}" for r in replicas]  # resumable as a fleet


def test_recipe_teachers_list_with_weights_and_concurrency(run_cli, tmp_path, replicas):
    recipe = tmp_path / "fleet.yaml"
    recipe.write_text(f"""\
name: fleet
generate:
  scenarios: {{no_tool_needed: 12}}
  seed: 4
  concurrency: 8
  teachers:
    - {{spec: "openai:m@{replicas[0].url}", weight: 3}}
    - {{spec: "openai:m@{replicas[1].url}", weight: 1, concurrency: 1}}
""")
    db = tmp_path / "r.duckdb"
    proc = run_cli("generate", "--recipe", recipe, "--db", db, "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stored"] == {"no_tool_needed": 12}
    assert replicas[0].answered > replicas[1].answered >= 1 and replicas[2].answered == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(recipe.read_text().replace("weight: 1,", "weight: -1,"))
    proc = run_cli("generate", "--recipe", bad, "--db", tmp_path / "b.duckdb", "--json", timeout=60)
    assert proc.returncode != 0 and proc.stderr.startswith("error: ") and "weight" in proc.stderr
    assert not (tmp_path / "b.duckdb").exists()
