"""Piper (piper-tts + the packaged joe-us voice) through the engine and the CLI, offline."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from toolforge.audio.engines import get_engine
from toolforge.audio.engines.piper_engine import packaged_voice_path
from toolforge.audio.store import audio_rows
from toolforge.audio.voices import VoiceSpec
from toolforge.store import open_store

pytestmark = pytest.mark.integration

TEXT = "Turn on the kitchen lights, please."


@pytest.fixture(scope="module")
def piper():
    engine = get_engine("piper")
    yield engine
    engine.close()


def test_packaged_voice_is_found_without_importing_it():
    path = packaged_voice_path("joe-us")
    assert path is not None and path.name == "en_US-joe-medium.onnx" and path.stat().st_size > 10_000_000


def test_piper_speaks_and_length_scale_changes_duration(piper):
    normal = piper.synthesize(TEXT, VoiceSpec(voice="joe-us", length_scale=1.0, noise_scale=0.5, noise_w=0.6))
    assert normal.sample_rate == 22050
    assert 1.0 < normal.duration_s < 5.0
    assert np.max(np.abs(normal.samples)) > 0.5          # real speech, peak-normalised by piper
    slow = piper.synthesize(TEXT, VoiceSpec(voice="joe-us", length_scale=1.5, noise_scale=0.5, noise_w=0.6))
    assert slow.duration_s > normal.duration_s * 1.25


def test_tts_cli_with_piper(run_cli, filled_db):
    # two worker processes (piper runs in-process, so --workers starts Python workers)
    proc = run_cli("tts", "--db", filled_db, "--engine", "piper", "--status", "any", "--limit", "2",
                   "--replies", "none", "--workers", "2", "--json", check=True)
    summary = json.loads(proc.stdout)
    assert summary["synthesised"] == 2 and summary["failed"] == 0
    with open_store(filled_db, read_only=True) as store:
        rows = audio_rows(store)
    assert len(rows) == 2
    for row in rows:
        info = sf.info(str(row["abs_path"]))
        assert (info.samplerate, info.channels) == (24000, 1)
        assert row["engine"] == "piper" and row["voice"] == "joe-us"
        assert 0.85 <= row["params"]["length_scale"] <= 1.15
        assert row["qc_ok"], row["qc"]                    # peak-normalised, yet not flagged as clipped
        assert row["qc"]["peak"] > 0.9 and row["qc"]["clip_events"] <= 5
