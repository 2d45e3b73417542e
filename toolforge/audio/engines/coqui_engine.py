"""Coqui TTS (``coqui-tts``) for users who can download its models.

Coqui downloads model weights on first use, so on a machine without network
access (and without the weights in its cache) it cannot speak: the engine
then fails with a clear message instead of a traceback. Install with
``pip install 'toolforge[coqui]'``; voices are Coqui model names
(``tts_models/en/ljspeech/vits`` by default), and for multi-speaker models a
``model|speaker`` pair.
"""

from __future__ import annotations

import importlib.metadata as md
from typing import Any

import numpy as np

from toolforge.audio.engines import Speech
from toolforge.audio.voices import VoicePlan, VoiceSpec
from toolforge.errors import BackendError, MissingExtraError, UsageError

DEFAULT_MODEL = "tts_models/en/ljspeech/vits"


def check() -> None:
    for dist in ("coqui-tts", "TTS"):
        try:
            md.version(dist)
            return
        except md.PackageNotFoundError:
            continue
    raise MissingExtraError("the coqui engine (coqui-tts)", extra="coqui")


class CoquiEngine:
    name = "coqui"
    deterministic = False
    parallel_safe = True

    def __init__(self) -> None:
        self._models: dict[str, Any] = {}

    def voices(self) -> list[str]:
        return [DEFAULT_MODEL]

    def default_plan(self, seed: int = 0) -> VoicePlan:
        return VoicePlan(voices=[DEFAULT_MODEL], assistant_voice=VoiceSpec(voice=DEFAULT_MODEL), seed=seed)

    def check_voice(self, spec: VoiceSpec) -> None:
        model = spec.voice.split("|", 1)[0]
        if not model.startswith(("tts_models/", "/")):
            raise UsageError(f"unknown Coqui model {model!r}",
                             hint=f"use a Coqui model name such as {DEFAULT_MODEL}")
        self._model(model)  # fail early (before any file is written) when it cannot load

    def _model(self, model: str) -> Any:
        if model not in self._models:
            try:
                from TTS.api import TTS

                self._models[model] = TTS(model_name=model, progress_bar=False).to("cpu")
            except Exception as exc:  # noqa: BLE001 - any failure here means "cannot speak", say why
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                raise BackendError(
                    f"Coqui TTS cannot load {model!r}: {first}",
                    hint="Coqui downloads its model weights on first use: run once with network access "
                         "(or copy its model cache), or use --engine piper / espeak offline",
                ) from None
        return self._models[model]

    def synthesize(self, text: str, spec: VoiceSpec) -> Speech:
        model, _, speaker = spec.voice.partition("|")
        tts = self._model(model)
        kwargs: dict[str, Any] = {"speaker": speaker} if speaker else {}
        if spec.rate:
            kwargs["speed"] = spec.rate
        wav = tts.tts(text=text, **kwargs)
        rate = int(getattr(getattr(tts, "synthesizer", None), "output_sample_rate", 22050))
        return Speech(samples=np.asarray(wav, dtype=np.float32), sample_rate=rate)

    def close(self) -> None:
        self._models.clear()


ENGINE_CLASS = CoquiEngine
