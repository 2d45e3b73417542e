"""pyttsx3 (the design card's engine): on Linux it drives the espeak library in-process; it is kept
for macOS/Windows system voices. Here: it speaks through the CLI, one worker, English voices only."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from toolforge.audio.engines import get_engine
from toolforge.audio.store import audio_rows
from toolforge.store import open_store

pytestmark = pytest.mark.integration


def test_pyttsx3_default_plan_uses_english_system_voices():
    engine = get_engine("pyttsx3")
    try:
        plan = engine.default_plan()
        assert plan.voices and set(plan.voices) <= set(engine.voices())
        assert all("/en" in v or v.lower().startswith("en") for v in plan.voices), plan.voices
        assert engine.parallel_safe is False
    finally:
        engine.close()


def test_tts_cli_with_pyttsx3(run_cli, filled_db):
    proc = run_cli("tts", "--db", filled_db, "--engine", "pyttsx3", "--status", "any", "--limit", "2",
                   "--replies", "none", "--workers", "2", "--json", check=True)
    summary = json.loads(proc.stdout)
    assert summary["synthesised"] == 2 and summary["failed"] == 0, summary
    with open_store(filled_db, read_only=True) as store:
        rows = audio_rows(store)
    for row in rows:
        assert row["engine"] == "pyttsx3" and row["qc_ok"], row["qc"]
        assert sf.info(str(row["abs_path"])).samplerate == 24000 and row["duration_s"] > 1.0
