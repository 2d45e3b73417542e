"""`toolforge push` against the Hub-API test double, driving the real huggingface_hub and datasets
clients over HTTP, in both upload modes (LFS with HF_HUB_DISABLE_XET=1, and the default Xet)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, toolforge_cmd
from tests.fixtures.hub import HUB_TOKEN
from toolforge.audio.store import audio_rows
from toolforge.export.convert import DEFAULT_THINK, chat_messages
from toolforge.store import Selection, open_store

pytestmark = pytest.mark.integration

LOAD_SCRIPT = """
import hashlib, json, sys
from datasets import Audio, List, load_dataset
ds = load_dataset(sys.argv[1])
out = {}
for split in ds:
    d = ds[split]
    if "audio" in d.column_names:
        d = d.cast_column("audio", List(Audio(decode=False)))
    for row in d:
        row = dict(row)
        row["audio"] = [hashlib.sha256(a["bytes"]).hexdigest() for a in row.get("audio") or []]
        row["split"] = split
        out[row["id"]] = row
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def voiced_store(tmp_path_factory, sample_dicts_module):
    """A validated store with the eight samples and espeak audio for three of them (built once)."""
    base = tmp_path_factory.mktemp("voiced")
    src = base / "sample.jsonl"
    src.write_text("".join(json.dumps(d) + "\n" for d in sample_dicts_module))
    db = base / "store.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["import", str(src)], ["validate"],
                 ["tts", "--scenario", "single_tool", "--scenario", "multi_tool_parallel"]):
        subprocess.run([*toolforge_cmd(), *args, "--db", str(db)], check=True, capture_output=True, env=env, cwd=base)
    return db


@pytest.fixture(scope="module")
def sample_dicts_module():
    path = ROOT / "examples" / "sample.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _shard_splits(paths) -> set[str]:
    """The splits of the staged shards (data/<split>-<scenario>-NNNNN-of-NNNNN.parquet, one set per scenario)."""
    shards = [p for p in paths if p.startswith("data/")]
    assert shards and all(re.fullmatch(r"data/(train|test)-[a-z_]+-\d{5}-of-\d{5}\.parquet", p) for p in shards), shards
    return {p.split("/")[1].split("-")[0] for p in shards}


def _copy_store(db: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(db, dest / db.name)
    audio = db.with_name(db.stem + "-audio")
    if audio.exists():
        shutil.copytree(audio, dest / audio.name)
    return dest / db.name


def _expected(db: Path) -> dict[str, dict]:
    with open_store(db, read_only=True) as store:
        records = list(store.iter_records(Selection(status="curated")))
        audio = audio_rows(store, [r.id for r in records])
    by_rec: dict[str, list] = {}
    for a in sorted(audio, key=lambda a: a["turn"]):
        by_rec.setdefault(a["record_id"], []).append(hashlib.sha256(Path(a["abs_path"]).read_bytes()).hexdigest())
    return {r.id: {"scenario": r.scenario, "messages": chat_messages(r, think=DEFAULT_THINK), "tools": r.tools_dump(),
                   "audio": by_rec.get(r.id, [])} for r in records}


def _load(hub, repo: str, xet: bool, tmp_path: Path) -> dict[str, dict]:
    env = {**os.environ, **hub.env(xet=xet), "HF_DATASETS_CACHE": str(tmp_path / f"dscache-{time.time_ns()}")}
    proc = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, repo], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _add_record(run_cli, db: Path, tmp_path: Path, sample_dicts_module, text: str) -> None:
    """Import one more (unvalidated) record: later pushes use --status any to include it."""
    new = json.loads(json.dumps(sample_dicts_module[0]))
    new["messages"][1]["content"] = text
    f = tmp_path / f"new-{time.time_ns()}.jsonl"
    f.write_text(json.dumps(new) + "\n")
    run_cli("import", f, "--db", db, check=True)


@pytest.mark.parametrize("xet", [False, True], ids=["lfs", "xet"])
def test_push_roundtrip_replace_interrupt(run_cli, hub_server, voiced_store, tmp_path, xet, sample_dicts_module):
    db = _copy_store(voiced_store, tmp_path / "work")
    env = hub_server.env(xet=xet)
    outputs: list[str] = []

    # 1. push, then load it back from the endpoint with datasets: same rows, byte-identical audio.
    proc = run_cli("push", "me/tools", "--db", db, "--test-fraction", "0.25", "--seed", "1", "--json", env=env)
    outputs += [proc.stdout, proc.stderr]
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout)
    assert first["rows"] == {"train": 6, "test": 2} and first["commit_oid"]
    reqs = hub_server.requests()
    if xet:
        assert any("/_cas/v1/xorbs/" in r for r in reqs) and any(r.endswith("/_cas/v1/shards") for r in reqs)
        assert not any("/info/lfs/objects/batch" in r for r in reqs)
    else:
        assert any("/info/lfs/objects/batch" in r for r in reqs) and not any("/_cas/" in r for r in reqs)
    head1 = hub_server.head("me/tools")
    assert head1["oid"] == first["commit_oid"]
    assert _shard_splits(head1["files"]) == {"train", "test"}
    got = _load(hub_server, "me/tools", xet, tmp_path)
    want = _expected(db)
    assert set(got) == set(want)
    assert sum(1 for r in got.values() if r["split"] == "test") == 2
    assert sum(1 for r in want.values() if r["audio"]) == 3
    for rid, w in want.items():
        g = got[rid]
        assert g["scenario"] == w["scenario"] and g["messages"] == w["messages"] and g["tools"] == w["tools"]
        assert g["audio"] == w["audio"]  # sha256 of the embedded bytes == the stored WAV files
        assert len(g["audio_turns"]) == len(w["audio"])
    assert "README.md" in head1["files"]

    # 2. a second push with changed data replaces the shards in a new commit.
    _add_record(run_cli, db, tmp_path, sample_dicts_module, "What's the weather like in Bergen right now?")
    proc = run_cli("push", "me/tools", "--db", db, "--status", "any", "--json", env=env)
    outputs += [proc.stdout, proc.stderr]
    assert proc.returncode == 0, proc.stderr
    second = json.loads(proc.stdout)
    head2 = hub_server.head("me/tools")
    assert head2["oid"] == second["commit_oid"] != first["commit_oid"]
    assert head2["n_commits"] == head1["n_commits"] + 1
    assert _shard_splits(head2["files"]) == {"train"}  # the test shards of the first push are gone
    assert head2["files"]["README.md"] != head1["files"]["README.md"]
    got2 = _load(hub_server, "me/tools", xet, tmp_path)
    assert len(got2) == 9 and {r["split"] for r in got2.values()} == {"train"}
    assert any("Bergen" in m.get("content", "") for r in got2.values() for m in r["messages"])

    # 3. a push interrupted before its commit leaves the repo as it was.
    _add_record(run_cli, db, tmp_path, sample_dicts_module, "What's the weather like in Tromso right now?")
    hub_server.post("hold", {"on": True})
    child = subprocess.Popen([*toolforge_cmd(), "push", "me/tools", "--db", str(db), "--status", "any"], cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while hub_server.get("waiting")["waiting"] < 1:
            assert child.poll() is None, child.stderr.read().decode()[-2000:] if child.stderr else ""
            assert time.time() < deadline, "the push never reached the upload"
            time.sleep(0.2)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
        hub_server.post("hold", {"on": False})
    out, err = child.communicate()
    outputs += [out.decode(errors="replace"), err.decode(errors="replace")]
    assert child.returncode != 0
    assert hub_server.head("me/tools") == head2  # same commit, same files, no new commit

    # 4. the token is nowhere in what export, push and the store wrote, nor in any output.
    run_cli("export", "--db", db, "--format", "trl", "--out", tmp_path / "export", check=True, env=env)
    needle = HUB_TOKEN.encode()
    scanned = 0
    for p in [*tmp_path.rglob("*"), *(hub_server.root / "hf-home").rglob("*")]:
        if p.is_file():
            scanned += 1
            assert needle not in p.read_bytes(), p
    assert scanned > 10
    assert all(HUB_TOKEN not in o for o in outputs)


def test_dry_run_stages_a_loadable_folder(run_cli, voiced_store, tmp_path):
    from datasets import Audio, List, load_dataset

    db = _copy_store(voiced_store, tmp_path / "work")
    stage = tmp_path / "stage"
    proc = run_cli("push", "me/tools", "--db", db, "--dry-run", "--stage-dir", stage, "--test-fraction", "0.25",
                   env={"HF_TOKEN": "", "HF_HOME": str(tmp_path / "no-login")})
    assert proc.returncode == 0, proc.stderr  # no token needed to stage
    assert "nothing published" in proc.stderr
    staged = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    assert staged[:2] == [".toolforge-stage.json", "README.md"] and _shard_splits(staged[2:]) == {"train", "test"}
    assert sorted(json.loads((stage / ".toolforge-stage.json").read_text())["files"]) == staged[1:]
    ds = load_dataset(str(stage), cache_dir=str(tmp_path / "ds-cache"))  # no stale cache hits
    assert ds["train"].num_rows == 6 and ds["test"].num_rows == 2
    want = _expected(db)
    for split in ("train", "test"):
        d = ds[split].cast_column("audio", List(Audio(decode=False)))
        for row in d:
            assert [hashlib.sha256(a["bytes"]).hexdigest() for a in row["audio"]] == want[row["id"]]["audio"]
            assert row["messages"] == want[row["id"]]["messages"]
    card = (stage / "README.md").read_text()
    assert "## Audio" in card and "espeak" in card


def test_bad_input_publishes_nothing(run_cli, hub_server, filled_db, tmp_path):
    env = hub_server.env(xet=False)
    cases = [  # (more shapes of bad repo ids and S3 urls are unit-tested in tests/unit/export/test_push_checks.py)
        (["push", "me/../x", "--status", "any"], env, "invalid repo id"),
        (["push", "me/tools", "--status", "any"], {**env, "HF_TOKEN": "", "HF_HOME": str(tmp_path / "empty")},
         "no Hugging Face token"),
        (["push", "me/tools"], env, "no records to export"),  # nothing validated: curated is empty
        (["push", "--to", "s3://Bad_Bucket", "--status", "any"], env, "invalid S3 location"),
    ]
    for args, e, message in cases:
        proc = run_cli(*args, "--db", filled_db, env=e)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert lines[0].startswith("error: ") and message in lines[0], (args, proc.stderr)
        assert len(lines) <= 2 and "Traceback" not in proc.stderr
        assert HUB_TOKEN not in proc.stderr + proc.stdout
    published = [r for r in hub_server.requests() if "/commit/" in r or "/repos/create" in r]
    assert published == []
