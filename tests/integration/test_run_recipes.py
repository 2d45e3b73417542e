"""`toolforge run` on the two shipped recipes at small scale, with the schema-driven `fake:` teacher."""

from __future__ import annotations

import json
from collections import Counter

import soundfile as sf

from tests.conftest import ROOT
from toolforge.recipe import load_recipe

SMOL = ROOT / "datasets" / "smol-tools.yaml"
LFM2 = ROOT / "datasets" / "lfm2-audio-tools.yaml"


def _run(run_cli, recipe, db, *args, cwd):
    proc = run_cli("run", recipe, "--db", db, "--teacher", "fake:", "--json", *args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def test_smol_tools_small_run_resume_and_ranges(run_cli, tmp_path):
    db = tmp_path / "smol.duckdb"
    first = _run(run_cli, SMOL, db, "--count", "14", cwd=tmp_path)
    status = {s["stage"]: s["status"] for s in first["stages"]}
    assert status == {"generate": "ran", "validate": "ran", "dedup": "ran", "tts": "disabled",
                      "review": "disabled", "export": "ran", "push": "disabled"}
    f = first["funnel"]
    assert f["generated"] == 14
    assert 0 < f["unique"] <= f["valid"] <= f["generated"]
    assert f["voiced"] is None and f["accepted"] is None
    assert f["exported"] == f["unique"]
    # The mixture, scaled to 14, is what the store holds.
    want = load_recipe(SMOL).generate.targets(14)
    listed = json.loads(run_cli("list", "--db", db, "--json", check=True).stdout)
    assert Counter(r["scenario"] for r in listed) == Counter({s: n for s, n in want.items() if n})
    out = tmp_path / "smol-export"
    for fmt in ("openai", "trl", "hermes"):
        manifest = json.loads((out / fmt / "export.json").read_text())
        assert sum(s["n"] for s in manifest["splits"].values()) == f["exported"]

    again = _run(run_cli, SMOL, db, "--count", "14", cwd=tmp_path)
    assert {s["stage"]: s["status"] for s in again["stages"]}["generate"] == "skipped"
    assert all(s["status"] in ("skipped", "disabled") for s in again["stages"])
    assert again["funnel"] == f

    ranged = _run(run_cli, SMOL, db, "--count", "14", "--from", "dedup", "--until", "dedup", "--force", cwd=tmp_path)
    assert [s["stage"] for s in ranged["stages"] if s["status"] == "ran"] == ["dedup"]
    # dedup ran again, so export is no longer done: the next plain run redoes export only.
    after = _run(run_cli, SMOL, db, "--count", "14", cwd=tmp_path)
    assert [s["stage"] for s in after["stages"] if s["status"] == "ran"] == ["export"]

    bigger = _run(run_cli, SMOL, db, "--count", "21", cwd=tmp_path)
    assert bigger["funnel"]["generated"] == 21
    gen = next(s for s in bigger["stages"] if s["stage"] == "generate")
    assert gen["status"] == "ran" and gen["counts"]["new"] == 7


def test_lfm2_audio_recipe_exports_paired_audio(run_cli, tmp_path):
    db = tmp_path / "lfm2.duckdb"
    res = _run(run_cli, LFM2, db, "--count", "10", cwd=tmp_path)
    f = res["funnel"]
    assert f["generated"] == 10 and f["voiced"] == f["unique"] > 0 and f["exported"] == f["unique"]
    out = tmp_path / "lfm2-export" / "lfm2-audio"
    rows = [json.loads(line) for split in ("train", "test") if (out / f"{split}.jsonl").exists()
            for line in (out / f"{split}.jsonl").read_text().splitlines()]
    assert len(rows) >= f["exported"]  # one row per user turn
    tool_rows = 0
    for row in rows:
        assert set(row) >= {"audio", "transcript", "response", "response_audio"}
        for key in ("audio", "response_audio"):
            path = out / row[key]
            assert path.is_file(), path
            info = sf.info(str(path))
            assert info.samplerate == 16000 and info.duration > 0.2
        tool_rows += "<|tool_call_start|>" in row["response"]
    assert tool_rows > 0, "no row carries a tool call in the lfm2 markup"
