"""ASR round trip: Whisper base (the packaged parts, joined once, offline) on piper and espeak files."""

from __future__ import annotations

import json

import pytest

from toolforge.audio.asr import WER_THRESHOLDS, AsrChecker, whisper_model_dir
from toolforge.audio.store import audio_rows
from toolforge.record import Record
from toolforge.store import open_store

pytestmark = pytest.mark.integration

PAIRS = [
    ("Please turn the camera to the left.", "Okay, turning the camera to the left now."),
    ("What is the weather like in Paris today?", "It is sunny and warm in Paris today."),
    ("Send an email to my manager about the meeting.", "I have sent the email to your manager."),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("tfcache")


@pytest.fixture
def asr_env(cache, monkeypatch):
    monkeypatch.setenv("TOOLFORGE_CACHE", str(cache))
    return cache


@pytest.fixture
def voiced_db(tmp_db):
    recs = [Record.model_validate({"messages": [{"role": "user", "content": u}, {"role": "assistant", "content": a}]})
            for u, a in PAIRS]
    with open_store(tmp_db) as store:
        store.upsert_records(recs, source="test")
    return tmp_db


def test_packaged_whisper_parts_are_joined_once(cache):
    first = whisper_model_dir(cache)
    assert (first / "COMPLETE").is_file()
    assert (first / "model.bin").stat().st_size == 94371840 + 50845767
    mtime = (first / "model.bin").stat().st_mtime_ns
    assert whisper_model_dir(cache) == first and (first / "model.bin").stat().st_mtime_ns == mtime
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]    # no partial folders left


@pytest.mark.parametrize("engine", ["espeak", "piper"])
def test_asr_round_trip_under_threshold_and_swapped_transcript_flagged(run_cli, voiced_db, asr_env, engine):
    # espeak: 2 records, user turns and replies; piper (slower): the 2 user turns
    extra = ["--replies", "none"] if engine == "piper" else []
    n_files = 2 if engine == "piper" else 4
    proc = run_cli("tts", "--db", voiced_db, "--engine", engine, "--status", "any", "--limit", "2",
                   "--asr-check", "--json", *extra, check=True)
    summary = json.loads(proc.stdout)
    assert summary["synthesised"] == n_files and summary["qc_failed"] == 0, summary
    with open_store(voiced_db, read_only=True) as store:
        rows = audio_rows(store)
        texts = {(r["record_id"], r["turn"]): store.get_record(r["record_id"]).messages[r["turn"]].content
                 for r in rows}
    assert len(rows) == n_files
    for row in rows:
        asr = row["qc"]["asr"]
        assert asr["threshold"] == WER_THRESHOLDS[engine]
        assert asr["wer"] <= asr["threshold"], (texts[(row["record_id"], row["turn"])], asr)
        assert asr["heard"]
    # a file checked against another turn's transcript is flagged
    checker = AsrChecker(whisper_model_dir(asr_env))
    a, b = rows[0], rows[-1]
    swapped = checker.check(a["abs_path"], texts[(b["record_id"], b["turn"])], engine)
    assert not swapped["ok"] and swapped["wer"] > 0.6
    assert checker.check(a["abs_path"], texts[(a["record_id"], a["turn"])], engine)["ok"]


def test_asr_threshold_can_be_set(run_cli, voiced_db, asr_env):
    proc = run_cli("tts", "--db", voiced_db, "--status", "any", "--limit", "1", "--replies", "none",
                   "--asr-check", "--asr-max-wer", "0", "--json", check=True)
    summary = json.loads(proc.stdout)
    with open_store(voiced_db, read_only=True) as store:
        (row,) = audio_rows(store)
        codes = [c for (c,) in store.con.execute("SELECT code FROM issues").fetchall()]
    asr = row["qc"]["asr"]
    assert asr["threshold"] == 0.0 and asr["ok"] == (asr["wer"] == 0.0) == row["qc_ok"]
    assert summary["qc_failed"] == (0 if asr["ok"] else 1)
    assert codes == ([] if asr["ok"] else ["audio.asr_mismatch"])
