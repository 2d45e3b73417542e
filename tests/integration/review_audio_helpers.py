"""Spoken user turns for review tests: espeak-ng WAVs registered in the audio table."""

from __future__ import annotations

import hashlib
import subprocess

import soundfile as sf

from toolforge.audio.store import audio_root, relative_path, upsert_audio
from toolforge.record import Record
from toolforge.store.db import Store


def speak_user_turns(store: Store, records: list[Record], roles: tuple[str, ...] = ("user",),
                     speed: int = 170) -> list[dict]:
    """Synthesise every user turn (and spoken reply, with ``roles``) of ``records`` with espeak-ng."""
    rows = []
    root = audio_root(store)
    for rec in records:
        for turn, msg in enumerate(rec.messages):
            if msg.role not in roles or not msg.content or msg.tool_calls:
                continue
            rel = relative_path(rec.id, turn, msg.role, "wav")
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", str(path), msg.content], check=True,
                           capture_output=True)
            info = sf.info(str(path))
            rows.append({"record_id": rec.id, "turn": turn, "role": msg.role, "path": rel, "engine": "espeak",
                         "voice": "en-us", "rate": float(speed), "pitch": 50.0, "sample_rate": info.samplerate,
                         "duration_s": info.duration, "qc_ok": True, "qc": {}, "params": {},
                         "text_sha": hashlib.sha256(msg.content.encode()).hexdigest(), "run_id": None})
    upsert_audio(store, rows)
    return rows
