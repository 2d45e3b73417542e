"""QC rules on synthetic signals: each planted fault is flagged, clean and peak-normalised audio is not."""

import numpy as np
import pytest

from toolforge.audio.qc import QCConfig, check_samples

SR = 24000


def speechlike(seconds=2.0, seed=0):
    """A voiced-speech stand-in: harmonics of 120 Hz under a syllable envelope, with quiet ends."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    tone = sum(np.sin(2 * np.pi * 120 * k * t + rng.uniform(0, 6)) / k for k in range(1, 8))
    envelope = np.clip(np.sin(np.pi * t / seconds), 0, 1) ** 0.5 * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2)
    x = (tone * envelope).astype(np.float32)
    x /= np.max(np.abs(x))
    x *= 0.5
    pad = np.zeros(int(SR * 0.2), dtype=np.float32)
    return np.concatenate([pad, x, pad])


def codes(samples, **kw):
    return [c for c, _ in check_samples(samples, SR, **kw).issues]


def test_clean_audio_passes_with_figures():
    res = check_samples(speechlike(), SR, text="A short sentence of about forty characters.")
    assert res.ok, res.issues
    f = res.figures
    assert f["duration_s"] == pytest.approx(2.4, abs=0.01)
    assert f["peak"] == pytest.approx(0.5, abs=0.01)
    assert 0.1 < f["lead_silence_s"] < 0.3 and 0.1 < f["trail_silence_s"] < 0.3
    assert -30 < f["rms_dbfs"] < -6


def test_peak_normalised_audio_is_not_clipped():
    x = speechlike()
    x = x / np.max(np.abs(x))          # touches full scale at its peak
    res = check_samples(x, SR)
    assert res.figures["peak"] == pytest.approx(1.0)
    assert "audio.clipped" not in codes(x)


def test_clipped_audio_is_flagged():
    x = np.clip(speechlike() * 6, -1, 1)
    assert "audio.clipped" in codes(x)
    assert check_samples(x, SR).figures["clip_events"] > 5


def test_silent_audio_is_flagged():
    assert codes(np.zeros(SR * 2, dtype=np.float32)) == ["audio.silent"]
    assert "audio.silent" in codes(np.random.default_rng(0).normal(0, 1e-4, SR).astype(np.float32))


def test_truncated_audio_is_flagged():
    x = speechlike()
    cut = x[: int(len(x) * 0.55)]        # stops mid-sound
    assert "audio.truncated" in codes(cut)
    assert "audio.truncated" not in codes(x)


def test_long_silences_and_too_fast_speech_are_flagged():
    x = speechlike()
    gap = np.zeros(int(SR * 2), dtype=np.float32)
    assert "audio.lead_silence" in codes(np.concatenate([gap, x]))
    assert "audio.trail_silence" in codes(np.concatenate([x, gap]))
    assert "audio.too_short" in codes(x, text="word " * 60)
    assert "audio.too_long" in codes(x, config=QCConfig(max_duration_s=1.0))
