"""pyttsx3: the system speech engine (SAPI5 on Windows, NSSpeechSynthesizer on macOS).

This is the engine the design card names. It is not the Linux default: on
Linux pyttsx3 drives the same espeak library as the ``espeak`` engine, but
in-process, where ``runAndWait()`` can return before the file is written,
per-utterance rate/voice settings lag one utterance behind, and the driver
prints to stdout. The ``espeak`` subprocess engine gives the same voices
deterministically and safely in parallel. Use this one for macOS/Windows
system voices; here each utterance waits for its file to appear and be
stable. Voices are the system voice ids (``toolforge tts --list-voices``);
rate is words per minute; pitch is not supported by the system APIs.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as md
import io
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from toolforge.audio.engines import Speech
from toolforge.audio.voices import VoicePlan, VoiceSpec
from toolforge.errors import BackendError, MissingExtraError, UsageError


def check() -> None:
    try:
        md.version("pyttsx3")
    except md.PackageNotFoundError:
        raise MissingExtraError("the pyttsx3 engine", extra="pyttsx3") from None


class Pyttsx3Engine:
    name = "pyttsx3"
    deterministic = False
    parallel_safe = False

    def __init__(self, *, wait_s: float = 30.0) -> None:
        self.wait_s = wait_s
        self._engine: Any = None
        self._finished = threading.Event()

    def _get(self) -> Any:
        if self._engine is None:
            import pyttsx3

            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    self._engine = pyttsx3.init()
                    # the driver prints "Audio saved to ..." and then signals the end of the utterance,
                    # possibly after runAndWait() returned: wait for that signal, with stdout captured
                    self._engine.connect("finished-utterance", lambda **_: self._finished.set())
            except Exception as exc:  # noqa: BLE001 - driver load failures vary by platform
                raise BackendError(f"pyttsx3 could not start its speech driver: {exc}",
                                   hint="on Linux it needs libespeak-ng1 (apt-get install espeak-ng); "
                                        "prefer --engine espeak there") from None
        return self._engine

    def voices(self) -> list[str]:
        return [v.id for v in self._get().getProperty("voices")]

    def english_voices(self) -> list[str]:
        """System voices whose language or name is English (the default plan's pool)."""
        out = []
        for v in self._get().getProperty("voices"):
            langs = [str(x.decode() if isinstance(x, bytes) else x).lower() for x in (v.languages or [])]
            if any(x.startswith("en") for x in langs) or str(v.name or "").lower().startswith("english"):
                out.append(v.id)
        return out

    def default_plan(self, seed: int = 0) -> VoicePlan:
        voices = self.english_voices() or self.voices()
        if not voices:
            raise BackendError("pyttsx3 reports no system voices")
        return VoicePlan(voices=voices[:8], rate=(150.0, 190.0), assistant_voice=VoiceSpec(voice=voices[0]),
                         seed=seed)

    def check_voice(self, spec: VoiceSpec) -> None:
        if spec.voice not in self.voices():
            raise UsageError(f"unknown pyttsx3 voice {spec.voice!r}",
                             hint="list them with `toolforge tts --engine pyttsx3 --list-voices`")

    def synthesize(self, text: str, spec: VoiceSpec) -> Speech:
        import soundfile as sf

        eng = self._get()
        fd, name = tempfile.mkstemp(suffix=".wav", prefix="tf-pyttsx3-")
        os.close(fd)
        path = Path(name)
        path.unlink()
        try:
            self._finished.clear()
            with contextlib.redirect_stdout(io.StringIO()):
                eng.setProperty("voice", spec.voice)
                if spec.rate is not None:
                    eng.setProperty("rate", int(spec.rate))
                eng.save_to_file(text, str(path))
                eng.runAndWait()
                # runAndWait() may return before the driver has finished the file
                finished = self._finished.wait(self.wait_s)
                deadline = time.monotonic() + self.wait_s
                last = -1
                while finished and time.monotonic() < deadline:
                    size = path.stat().st_size if path.exists() else -1
                    if size > 44 and size == last:
                        break
                    last = size
                    time.sleep(0.02)
                else:
                    raise BackendError(f"pyttsx3 did not write audio within {self.wait_s:g} s")
            samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
            return Speech(samples=samples.mean(axis=1), sample_rate=int(rate))
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._engine is not None:
            with contextlib.suppress(Exception):
                self._engine.stop()
            self._engine = None


ENGINE_CLASS = Pyttsx3Engine
