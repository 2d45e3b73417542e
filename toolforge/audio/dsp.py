"""Audio plumbing: mono float, resampling with soxr, trimming, padding, writing with soundfile."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np

FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16")}
SAMPLE_RATES = (16000, 22050, 24000, 44100, 48000)


def mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1)
    return np.ascontiguousarray(x, dtype=np.float32)


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Resample with soxr (high quality); a no-op when the rates match."""
    x = mono(samples)
    if in_rate == out_rate or len(x) == 0:
        return x
    import soxr

    return np.asarray(soxr.resample(x, in_rate, out_rate, quality="HQ"), dtype=np.float32)


def frame_db(samples: np.ndarray, rate: int, frame_ms: float = 10.0) -> np.ndarray:
    """RMS level of consecutive frames, in dBFS (silence is about -100)."""
    n = max(1, int(rate * frame_ms / 1000))
    if len(samples) == 0:
        return np.zeros(0)
    usable = len(samples) - len(samples) % n
    if usable == 0:  # shorter than one frame: one (short) frame
        usable, n = len(samples), len(samples)
    frames = np.asarray(samples[:usable], dtype=np.float32).reshape(-1, n)
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / n
    return 10 * np.log10(np.maximum(power, 1e-10))


def trim(samples: np.ndarray, rate: int, *, threshold_db: float = -55.0, keep_ms: float = 30.0) -> np.ndarray:
    """Cut leading/trailing silence (frames under ``threshold_db``), keeping ``keep_ms`` of margin."""
    if len(samples) == 0:
        return samples
    db = frame_db(samples, rate)
    loud = np.flatnonzero(db > threshold_db)
    if len(loud) == 0:
        return samples
    n = max(1, int(rate * 0.010))
    keep = int(rate * keep_ms / 1000)
    start = max(0, int(loud[0]) * n - keep)
    end = min(len(samples), (int(loud[-1]) + 1) * n + keep)
    return samples[start:end]


def pad(samples: np.ndarray, rate: int, lead_ms: float, trail_ms: float) -> np.ndarray:
    lead, trail = int(rate * lead_ms / 1000), int(rate * trail_ms / 1000)
    out = np.zeros(lead + len(samples) + trail, dtype=np.float32)
    out[lead:lead + len(samples)] = samples
    return out


def prepare(samples: np.ndarray, in_rate: int, out_rate: int, *, pad_ms: tuple[float, float] = (150.0, 200.0),
            trim_silence: bool = True) -> np.ndarray:
    """Engine output -> what is written: mono, trimmed, resampled, padded, never above full scale."""
    x = mono(samples)
    if trim_silence:
        x = trim(x, in_rate)
    x = resample(x, in_rate, out_rate)
    peak = max(float(x.max()), -float(x.min())) if len(x) else 0.0
    if peak > 1.0:  # resampling can overshoot full-scale (e.g. Piper's peak-normalised output)
        x = x / peak
    return pad(x, out_rate, *pad_ms)


def quantize(samples: np.ndarray) -> np.ndarray:
    """Float samples -> 16-bit PCM values (what a PCM_16 file holds)."""
    x = np.multiply(samples, 32767.0, dtype=np.float32)
    np.clip(x, -32767.0, 32767.0, out=x)
    np.rint(x, out=x)
    return x.astype(np.int16)


def write_audio(path: Path, samples: np.ndarray, rate: int, fmt: str = "wav") -> np.ndarray:
    """Write 16-bit PCM; returns the samples as written (float, as a reader would get them)."""
    import soundfile as sf

    major, subtype = FORMATS[fmt]
    pcm = quantize(samples)
    if fmt == "wav" and pcm.ndim == 1 and len(pcm):
        # mono 16-bit WAV: libsndfile's bytes (its 44-byte header, tested), without a libsndfile call
        path.write_bytes(wav_header(len(pcm), rate) + pcm.astype("<i2", copy=False).tobytes())
        return pcm.astype(np.float32) / 32768.0
    buf = io.BytesIO()   # libsndfile writes a file in many small writes: one write is ~30x faster here
    sf.write(buf, pcm, rate, format=major, subtype=subtype)
    path.write_bytes(buf.getvalue())
    return pcm.astype(np.float32) / 32768.0


def wav_header(n_samples: int, rate: int) -> bytes:
    """The 44-byte header libsndfile writes for a mono 16-bit PCM WAV of ``n_samples``."""
    data = 2 * n_samples
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16)
            + b"data" + struct.pack("<I", data))


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return mono(data), int(rate)
