"""Audio for review tasks: one player per task, synced to every spoken turn.

A record with one spoken turn points the player at that file. A record with
several (user requests and spoken replies) gets one WAV that joins them in
order with a short pause, written once under ``<audio root>/_review/`` (the
name carries a hash of its inputs, so new audio makes a new file); each
spoken dialogue line gets its ``start``/``end`` in it, so the player follows
the conversation. Audio rows that failed QC are left out.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from toolforge.errors import UsageError
from toolforge.review.tasks import local_files_url
from toolforge.store.db import Store

log = logging.getLogger(__name__)
PAUSE_S = 0.4


def review_audio(store: Store, record_ids: list[str], files_root: Path) -> dict[str, dict[str, Any]]:
    """record id -> {"url": ..., "timings": {message index: {"start", "end"}}}."""
    if not store.has_table("audio"):
        return {}
    try:
        from toolforge.audio.store import audio_root, audio_rows, safe_stem
    except ImportError:
        log.warning("the store has an audio table but toolforge.audio is not importable; pushing without audio")
        return {}
    by_record: dict[str, list[dict[str, Any]]] = {}
    for row in audio_rows(store, record_ids):
        if row.get("qc_ok") is False or row.get("role") not in ("user", "assistant"):
            continue
        by_record.setdefault(row["record_id"], []).append(row)
    out: dict[str, dict[str, Any]] = {}
    for rid, rows in by_record.items():
        rows.sort(key=lambda r: int(r["turn"]))
        if len(rows) == 1:
            path = Path(rows[0]["abs_path"]).resolve()
            timings = {int(rows[0]["turn"]): {"start": 0.0, "end": float(rows[0].get("duration_s") or 0.0)}}
        else:
            path, timings = _joined(rows, audio_root(store) / "_review" / f"{safe_stem(rid)}")
        out[rid] = {"url": _url(path, files_root), "timings": timings}
    return out


def _url(path: Path, root: Path) -> str:
    try:
        rel = path.resolve().relative_to(root)
    except ValueError:
        raise UsageError(
            f"audio file {path} is outside the server's local-files root {root}",
            hint="pass --files-root with the folder Label Studio serves (LOCAL_FILES_DOCUMENT_ROOT)",
        ) from None
    return local_files_url(str(rel))


def _joined(rows: list[dict[str, Any]], stem: Path) -> tuple[Path, dict[int, dict[str, float]]]:
    import numpy as np
    import soundfile as sf

    key = hashlib.sha256("|".join(f"{r['turn']}:{r['path']}:{r.get('text_sha')}:{r.get('duration_s')}"
                                  for r in rows).encode()).hexdigest()[:12]
    target = stem.parent / f"{stem.name}-{key}.wav"
    clips = []
    rate = None
    for r in rows:
        data, sr = sf.read(str(r["abs_path"]), dtype="float32", always_2d=True)
        data = data.mean(axis=1)
        if rate is None:
            rate = sr
        elif sr != rate:
            import soxr

            data = soxr.resample(data, sr, rate)
        clips.append((int(r["turn"]), data))
    assert rate is not None
    pause = np.zeros(int(PAUSE_S * rate), dtype="float32")
    timings: dict[int, dict[str, float]] = {}
    parts = []
    t = 0.0
    for i, (turn, data) in enumerate(clips):
        if i:
            parts.append(pause)
            t += len(pause) / rate
        timings[turn] = {"start": round(t, 3), "end": round(t + len(data) / rate, 3)}
        parts.append(data)
        t += len(data) / rate
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp.wav")
        sf.write(str(tmp), np.concatenate(parts), rate, subtype="PCM_16")
        tmp.replace(target)
    return target, timings
