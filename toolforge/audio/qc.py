"""Audio QC with numpy: duration, peak, clipping, leading/trailing silence, RMS, truncation.

Rules (all thresholds in :class:`QCConfig`):

- ``audio.silent``: no 10 ms frame is louder than ``silence_db``.
- ``audio.clipped``: clipping is a *run* of ``clip_run`` or more consecutive
  samples at or above ``clip_level`` of full scale; the file is flagged when it
  has more than ``max_clip_events`` such runs. A peak-normalised file touches
  full scale at its peaks only (a sample or two each), so it is not flagged;
  hard clipping makes flat tops, many samples long, all over the file.
- ``audio.lead_silence`` / ``audio.trail_silence``: more silence than allowed
  before the first / after the last loud frame.
- ``audio.truncated``: the file ends while speech is still loud (the last
  frame is above ``truncated_db``): speech cut off mid-sound.
- ``audio.too_short``: fewer seconds than the text needs at
  ``max_chars_per_s`` characters per second.
- ``audio.too_long``: longer than ``max_duration_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from toolforge.audio.dsp import frame_db, read_audio


class QCConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frame_ms: float = 10.0
    silence_db: float = -50.0
    clip_level: float = 0.999
    clip_run: int = 3
    max_clip_events: int = 5
    max_lead_silence_s: float = 1.0
    max_trail_silence_s: float = 1.5
    truncated_db: float = -30.0
    max_chars_per_s: float = 40.0
    max_duration_s: float = 300.0


@dataclass
class QCResult:
    ok: bool
    figures: dict[str, Any]
    issues: list[tuple[str, str]] = field(default_factory=list)   # (code, message)


def _clip_events(samples: np.ndarray, level: float, min_run: int) -> tuple[int, int]:
    """(number of runs of >= min_run consecutive samples at >= level, samples in those runs)."""
    if max(float(samples.max()), -float(samples.min())) < level:
        return 0, 0
    hot = np.abs(samples) >= level
    if not hot.any():
        return 0, 0
    padded = np.concatenate([[False], hot, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    lengths = ends - starts
    long_runs = lengths[lengths >= min_run]
    return int(len(long_runs)), int(long_runs.sum())


def check_samples(samples: np.ndarray, rate: int, *, text: str | None = None,
                  config: QCConfig | None = None) -> QCResult:
    cfg = config or QCConfig()
    x = np.asarray(samples, dtype=np.float32)
    duration = len(x) / float(rate) if rate else 0.0
    peak = max(float(x.max()), -float(x.min())) if len(x) else 0.0
    rms = float(np.sqrt(np.einsum("i,i->", x, x, dtype=np.float64) / len(x))) if len(x) else 0.0
    db = frame_db(x, rate, cfg.frame_ms)
    loud = np.flatnonzero(db > cfg.silence_db)
    frame_s = cfg.frame_ms / 1000.0
    events, clipped_samples = _clip_events(x, cfg.clip_level, cfg.clip_run)
    figures: dict[str, Any] = {
        "duration_s": round(duration, 4),
        "peak": round(peak, 5),
        "peak_dbfs": round(20 * np.log10(max(peak, 1e-5)), 2),
        "rms_dbfs": round(20 * np.log10(max(rms, 1e-5)), 2),
        "clip_events": events,
        "clipped_samples": clipped_samples,
    }
    issues: list[tuple[str, str]] = []
    if len(loud) == 0:
        figures.update(lead_silence_s=round(duration, 4), trail_silence_s=round(duration, 4), speech_s=0.0)
        issues.append(("audio.silent", f"no sound above {cfg.silence_db:g} dBFS in {duration:.2f} s"))
        return QCResult(ok=False, figures=figures, issues=issues)
    lead = float(loud[0]) * frame_s
    trail = max(0.0, duration - (float(loud[-1]) + 1) * frame_s)
    speech = float((db > cfg.silence_db).sum()) * frame_s
    figures.update(lead_silence_s=round(lead, 4), trail_silence_s=round(trail, 4), speech_s=round(speech, 4),
                   end_dbfs=round(float(db[-1]), 2))
    if events > cfg.max_clip_events:
        issues.append(("audio.clipped", f"{events} clipping runs (>= {cfg.clip_run} samples at full scale)"))
    if lead > cfg.max_lead_silence_s:
        issues.append(("audio.lead_silence", f"{lead:.2f} s of silence before speech"))
    if trail > cfg.max_trail_silence_s:
        issues.append(("audio.trail_silence", f"{trail:.2f} s of silence after speech"))
    if float(db[-1]) > cfg.truncated_db:
        issues.append(("audio.truncated", f"the file ends mid-sound ({float(db[-1]):.1f} dBFS in its last "
                                          f"{cfg.frame_ms:g} ms)"))
    if text:
        chars = len(text.strip())
        figures["chars_per_s"] = round(chars / speech, 2) if speech else None
        if speech and chars / speech > cfg.max_chars_per_s:
            issues.append(("audio.too_short", f"{speech:.2f} s of speech for {chars} characters of text"))
    if duration > cfg.max_duration_s:
        issues.append(("audio.too_long", f"{duration:.1f} s is longer than {cfg.max_duration_s:g} s"))
    return QCResult(ok=not issues, figures=figures, issues=issues)


def check_file(path: Path, *, text: str | None = None, config: QCConfig | None = None) -> QCResult:
    """QC of an audio file as written (what a user of the dataset will hear)."""
    try:
        samples, rate = read_audio(path)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is a QC failure, not a crash
        return QCResult(ok=False, figures={"duration_s": 0.0},
                        issues=[("audio.unreadable", f"cannot read {path.name}: {exc}")])
    res = check_samples(samples, rate, text=text, config=config)
    res.figures["sample_rate"] = rate
    return res
