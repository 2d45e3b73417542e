"""espeak-ng driven as a subprocess (the default engine).

One ``espeak-ng -w FILE`` process per utterance, text on stdin (so text that
starts with ``-`` is never read as an option), the WAV read from a scratch file. The
output depends only on the text and the options, so it is deterministic and
safe to run in parallel processes. Voices are espeak voice names or language
codes, optionally with a ``+variant`` (``en-gb+f3``); rate is words per
minute (80-450), pitch 0-99.

Warm batches (:meth:`EspeakEngine.synthesize_many`, used by ``toolforge tts
--workers N`` with N > 1): a small server process
(:mod:`toolforge.audio.engines.espeak_zygote`) loads libespeak-ng and
initialises it once, loads each voice once per batch in a forked child, and
speaks each utterance in a grandchild of that, from exactly the state a fresh
``espeak-ng -v VOICE -s RATE -p PITCH`` process has: the samples are the CLI's,
sample for sample (tests/unit/audio/test_espeak_warm.py). Without the library or
``os.fork`` it falls back to one CLI process per utterance.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from toolforge.audio.engines import Speech
from toolforge.audio.voices import VoicePlan, VoiceSpec
from toolforge.errors import MissingExtraError, ToolforgeError, UsageError

BINARY = "espeak-ng"
# The default plan keeps voices and variants Whisper base understands: mean/max WER over four
# sentences at 175 wpm, measured here: en-us .05/.21, en-gb-x-rp .07/.29, en-us-nyc .11/.29,
# en-gb-x-gbcwmd .18/.38, en-gb-x-gbclan .23/.63, en-gb .25/.63, en-gb-scotland .26/.63;
# en-029 (.31/.75) is left out. Variants on en-us: m1/m3/m7 .05, m2 .07, m4 .10, f5 .15, f3 .17,
# f2/f4 .19; f1 (.31/.64) is left out.
DEFAULT_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-us-nyc", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd"]
DEFAULT_VARIANTS = ["", "m1", "m2", "m3", "m4", "m7", "f2", "f3", "f4", "f5"]
DEFAULT_RATE = (140.0, 180.0)
DEFAULT_PITCH = (30.0, 70.0)
# scratch WAVs are created with mkstemp (O_EXCL, mode 0600), in RAM where the system has /dev/shm
_SHM = "/dev/shm"  # noqa: S108
_SCRATCH = _SHM if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK) else None


class EspeakFailed(ToolforgeError):
    """espeak-ng exited with an error for one utterance."""


def check() -> None:
    if shutil.which(BINARY) is None:
        raise MissingExtraError("the espeak-ng program", apt="espeak-ng")


@functools.lru_cache(maxsize=1)
def _data_dir() -> Path | None:
    out = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"Data at:\s*(\S.*)$", out.strip())
    return Path(m.group(1).strip()) if m else None


@functools.lru_cache(maxsize=1)
def _voice_names() -> frozenset[str]:
    """Language codes, voice names and file names of the installed (non-mbrola) voices."""
    out = subprocess.run([BINARY, "--voices"], capture_output=True, text=True, timeout=30).stdout
    names: set[str] = set()
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 5:
            continue
        lang, name, file = cols[1], cols[3], cols[4]
        if file.startswith("mb/") and shutil.which("mbrola") is None:
            continue
        names.update({lang, name.lower(), file.split("/")[-1].lower(), file.lower()})
    return frozenset(names)


@functools.lru_cache(maxsize=1)
def _variants() -> frozenset[str]:
    data = _data_dir()
    folder = data / "voices" / "!v" if data else None
    if folder is None or not folder.is_dir():
        return frozenset()
    return frozenset(p.name for p in folder.iterdir())


@functools.lru_cache(maxsize=1)
def _warm_available() -> bool:
    from toolforge.audio.engines import espeak_zygote

    return espeak_zygote.library() is not None


def _wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Samples of espeak's 16-bit mono WAV (streamed WAVs carry placeholder sizes: read to the end)."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise EspeakFailed("espeak-ng did not write a WAV stream")
    rate = int.from_bytes(data[24:28], "little")
    pos = data.find(b"data", 12)
    if pos < 0:
        raise EspeakFailed("espeak-ng wrote a WAV stream without a data chunk")
    pcm = data[pos + 8:]
    pcm = pcm[: len(pcm) - len(pcm) % 2]
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, rate


class EspeakEngine:
    name = "espeak"
    deterministic = True
    parallel_safe = True
    external_process = True   # each utterance is its own espeak-ng process

    def __init__(self, *, timeout_s: float = 120.0) -> None:
        self.timeout_s = timeout_s
        self._zygote: subprocess.Popen[str] | None = None

    def voices(self) -> list[str]:
        return sorted(_voice_names())

    def variants(self) -> list[str]:
        return sorted(_variants())

    def default_plan(self, seed: int = 0) -> VoicePlan:
        installed = _voice_names()
        voices = [v for v in DEFAULT_VOICES if v in installed] or ["en"]
        variants = [v for v in DEFAULT_VARIANTS if v == "" or v in _variants()]
        return VoicePlan(voices=voices, variants=variants, rate=DEFAULT_RATE, pitch=DEFAULT_PITCH,
                         assistant_voice=VoiceSpec(voice="en-us", rate=165.0, pitch=50.0), seed=seed)

    def check_voice(self, spec: VoiceSpec) -> None:
        base, _, variant = spec.voice.partition("+")
        if base.lower() not in _voice_names() and base not in _voice_names():
            raise UsageError(f"unknown espeak voice {base!r}",
                             hint="list them with `espeak-ng --voices`, e.g. en-us, en-gb, en-gb-scotland")
        if variant and variant not in _variants():
            raise UsageError(f"unknown espeak variant {variant!r}",
                             hint="list them with `espeak-ng --voices=variant`, e.g. m3, f2, klatt")
        if spec.rate is not None and not 80 <= spec.rate <= 450:
            raise UsageError(f"espeak rate {spec.rate:g} is outside 80-450 words per minute")
        if spec.pitch is not None and not 0 <= spec.pitch <= 99:
            raise UsageError(f"espeak pitch {spec.pitch:g} is outside 0-99")

    def command(self, spec: VoiceSpec, out: str | None = None) -> list[str]:
        """The espeak-ng command line (text comes on stdin; WAV to ``out``, or to stdout)."""
        cmd = [BINARY, "-b", "1", "-v", spec.voice, *(("-w", out) if out else ("--stdout",))]
        if spec.rate is not None:
            cmd += ["-s", str(round(spec.rate))]
        if spec.pitch is not None:
            cmd += ["-p", str(round(spec.pitch))]
        return cmd

    def synthesize(self, text: str, spec: VoiceSpec) -> Speech:
        # espeak writes a scratch file (in RAM where /dev/shm exists): reading one file costs the
        # Python side about half of what draining a 250 kB pipe does, which matters in parallel runs
        fd, scratch = tempfile.mkstemp(prefix="tf-espeak-", suffix=".wav", dir=_SCRATCH)
        os.close(fd)
        try:
            proc = subprocess.run(self.command(spec, scratch), input=text.encode("utf-8"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=self.timeout_s,
                                  check=False)
            if proc.returncode != 0:
                err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                raise EspeakFailed(f"espeak-ng failed ({proc.returncode}): {err[0] if err else 'no message'}")
            with open(scratch, "rb") as fh:
                data = fh.read()
        except subprocess.TimeoutExpired:
            raise EspeakFailed(f"espeak-ng took longer than {self.timeout_s:g} s") from None
        finally:
            os.unlink(scratch)
        samples, rate = _wav_samples(data)
        return Speech(samples=samples, sample_rate=rate)

    @property
    def warm_batches(self) -> bool:
        """Whether :meth:`synthesize_many` speaks from a warm server (else it runs the CLI per item)."""
        return _warm_available()

    def _server(self) -> subprocess.Popen[str] | None:
        if self._zygote is not None and self._zygote.poll() is None:
            return self._zygote
        from toolforge.audio.engines import espeak_zygote

        proc = subprocess.Popen([sys.executable, "-S", "-I", espeak_zygote.__file__, str(int(self.timeout_s))],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            proc.kill()
            proc.wait()
            return None
        self._zygote = proc
        return proc

    def synthesize_many(self, items: list[tuple[str, VoiceSpec]]) -> list[Speech | Exception]:
        """Speech (or the error) for each ``(text, spec)``: the CLI's samples, from a warm server
        (:mod:`toolforge.audio.engines.espeak_zygote`), one voice load per voice in the batch."""
        server = self._server() if _warm_available() else None
        if server is None:
            return [self._one(text, spec) for text, spec in items]
        assert server.stdin is not None and server.stdout is not None
        out: list[Speech | Exception | None] = [None] * len(items)
        groups: dict[str, list[int]] = {}
        for i, (_, spec) in enumerate(items):
            groups.setdefault(spec.voice, []).append(i)
        for voice, idxs in groups.items():
            paths = []
            try:
                for _ in idxs:
                    fd, scratch = tempfile.mkstemp(prefix="tf-espeak-", suffix=".raw", dir=_SCRATCH)
                    os.close(fd)
                    paths.append(scratch)
                batch = []
                for i, path in zip(idxs, paths, strict=True):
                    text, spec = items[i]
                    batch.append([text, None if spec.rate is None else round(spec.rate),
                                  None if spec.pitch is None else round(spec.pitch), path])
                server.stdin.write(json.dumps({"voice": voice, "items": batch}) + "\n")
                server.stdin.flush()
                reply = server.stdout.readline()
                codes = json.loads(reply) if reply else [-1] * len(idxs)
                for i, path, code in zip(idxs, paths, codes, strict=True):
                    if code == 0:
                        with open(path, "rb") as fh:
                            pcm = fh.read()
                        pcm = pcm[: len(pcm) - len(pcm) % 2]
                        out[i] = Speech(samples=np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0,
                                        sample_rate=22050)
                    elif code == 3:
                        out[i] = EspeakFailed(f"espeak-ng could not load voice {voice!r}")
                    elif code == -14:  # SIGALRM
                        out[i] = EspeakFailed(f"espeak-ng took longer than {self.timeout_s:g} s")
                    else:
                        out[i] = EspeakFailed(f"espeak-ng failed (status {code})")
            finally:
                for path in paths:
                    if os.path.exists(path):
                        os.unlink(path)
        return [x if x is not None else EspeakFailed("no result") for x in out]

    def _one(self, text: str, spec: VoiceSpec) -> Speech | Exception:
        try:
            return self.synthesize(text, spec)
        except Exception as exc:  # noqa: BLE001 - reported per turn by the caller
            return exc

    def close(self) -> None:
        if self._zygote is not None:
            if self._zygote.stdin is not None:
                self._zygote.stdin.close()  # the server ends at the end of its input
            try:
                self._zygote.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._zygote.kill()
                self._zygote.wait()
            self._zygote = None


ENGINE_CLASS = EspeakEngine
