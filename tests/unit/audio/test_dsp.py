"""Resampling, trimming and padding."""

import numpy as np
import pytest

from toolforge.audio.dsp import prepare, resample, trim


def tone(sr, seconds=1.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.mark.parametrize("out_rate", [16000, 24000])
def test_resample_keeps_duration_and_pitch(out_rate):
    y = resample(tone(22050), 22050, out_rate)
    assert len(y) == pytest.approx(out_rate, abs=2)
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) * out_rate / len(y) == pytest.approx(220, abs=2)


def test_trim_then_pad_gives_exact_margins():
    sr = 24000
    x = np.concatenate([np.zeros(sr), tone(sr), np.zeros(sr)])
    trimmed = trim(x, sr, keep_ms=0)
    assert len(trimmed) == pytest.approx(sr, abs=sr * 0.02)
    out = prepare(x, sr, sr, pad_ms=(100, 300))
    assert len(out) == pytest.approx(sr * 1.4 + sr * 0.06, abs=sr * 0.03)
    assert not out[: int(sr * 0.1)].any() and not out[-int(sr * 0.3):].any()


def test_prepare_never_exceeds_full_scale():
    out = prepare(tone(22050, amp=1.0), 22050, 24000)
    assert np.max(np.abs(out)) <= 1.0
