"""Voice specs and the seeded voice plan.

A :class:`VoiceSpec` is everything an engine needs to speak in one voice:
the voice name (an espeak voice with an optional ``+variant``, a Piper model
name, a system voice id), a rate and a pitch in the engine's own units, and
Piper's length/noise scales. A :class:`VoicePlan` draws one spec per record
and role from ranges, seeded by ``(seed, record id, role)``, so that a dataset
does not have one speaker and re-running the plan gives the same voices.

By default the user side varies and the assistant keeps one voice (a speech
model should answer in a consistent voice); ``vary_assistant`` varies both.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class VoiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    voice: str
    rate: float | None = None          # espeak: words per minute; piper: 1/length_scale; pyttsx3: wpm
    pitch: float | None = None         # espeak: 0-99
    length_scale: float | None = None  # piper
    noise_scale: float | None = None   # piper
    noise_w: float | None = None       # piper
    speaker_id: int | None = None      # piper multi-speaker voices

    def label(self) -> str:
        parts = [self.voice]
        if self.rate is not None:
            parts.append(f"rate={self.rate:g}")
        if self.pitch is not None:
            parts.append(f"pitch={self.pitch:g}")
        if self.length_scale is not None:
            parts.append(f"length={self.length_scale:g}")
        return " ".join(parts)


def _range(v: tuple[float, float] | None) -> tuple[float, float] | None:
    if v is None:
        return None
    lo, hi = float(v[0]), float(v[1])
    if lo > hi:
        raise ValueError(f"range {lo:g}:{hi:g} has its low end above its high end")
    return lo, hi


class VoicePlan(BaseModel):
    """Ranges the plan draws from. Empty lists / ``None`` ranges mean "engine default"."""

    model_config = ConfigDict(extra="forbid")

    voices: list[str] = Field(default_factory=list)
    variants: list[str] = Field(default_factory=list)   # espeak '+variant' suffixes ('' = none)
    rate: tuple[float, float] | None = None
    pitch: tuple[float, float] | None = None
    length_scale: tuple[float, float] | None = None
    noise_scale: tuple[float, float] | None = None
    noise_w: tuple[float, float] | None = None
    assistant_voice: VoiceSpec | None = None
    vary_assistant: bool = False
    seed: int = 0

    @model_validator(mode="after")
    def _check_ranges(self) -> VoicePlan:
        for name in ("rate", "pitch", "length_scale", "noise_scale", "noise_w"):
            _range(getattr(self, name))
        if not self.voices:
            raise ValueError("a voice plan needs at least one voice")
        return self

    def _rng(self, record_id: str, role: str) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}|{record_id}|{role}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def pick(self, record_id: str, role: str) -> VoiceSpec:
        """The voice for ``role`` in record ``record_id`` (same inputs, same voice)."""
        if role == "assistant" and not self.vary_assistant:
            return self.assistant_voice or VoiceSpec(voice=self.voices[0])
        rng = self._rng(record_id, role)
        voice = rng.choice(self.voices)
        if self.variants:
            variant = rng.choice(self.variants)
            if variant:
                voice = f"{voice}+{variant}"

        def draw(r: tuple[float, float] | None, digits: int) -> float | None:
            return None if r is None else round(rng.uniform(r[0], r[1]), digits)

        return VoiceSpec(
            voice=voice,
            rate=draw(self.rate, 0),
            pitch=draw(self.pitch, 0),
            length_scale=draw(self.length_scale, 3),
            noise_scale=draw(self.noise_scale, 3),
            noise_w=draw(self.noise_w, 3),
        )

    def distribution(self, record_ids: list[str], roles: tuple[str, ...] = ("user", "assistant")) -> dict[str, Any]:
        """How the plan spreads over these records: counts per voice, rate and pitch ranges."""
        voices: Counter[str] = Counter()
        rates: list[float] = []
        pitches: list[float] = []
        for rid in record_ids:
            for role in roles:
                spec = self.pick(rid, role)
                voices[spec.voice] += 1
                if spec.rate is not None:
                    rates.append(spec.rate)
                if spec.pitch is not None:
                    pitches.append(spec.pitch)
        return {
            "voices": dict(voices.most_common()),
            "distinct_voices": len(voices),
            "rate": [min(rates), max(rates)] if rates else None,
            "pitch": [min(pitches), max(pitches)] if pitches else None,
        }
