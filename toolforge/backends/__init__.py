"""Teacher backends, chosen by a spec string.

====================  ===========================================================
``openai:MODEL[@URL]`` any OpenAI-compatible server (OpenAI, vLLM, SGLang,
                       llama.cpp server, Ollama); :mod:`.openai_compat`
``vllm:MODEL``         vLLM's offline engine, batched (GPU); :mod:`.vllm_offline`
``llamacpp:NAME|PATH`` llama.cpp in-process (the embedded default); :mod:`.llamacpp`
``hf:PATH``             a local transformers model or adapter (students); :mod:`.hf_local`
``fake:``              scripted / schema-driven, for tests and ``--dry-run``; :mod:`.fake`
====================  ===========================================================

Adding a backend is one module plus one line in ``BACKENDS``. The registry
remembers which backends cannot load here and why (a missing extra is named
with its ``pip install`` line); availability is checked with
``importlib.metadata``, never by importing the heavy package.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
from dataclasses import dataclass
from typing import Any

from toolforge.backends.base import ChatRequest, ChatResponse, Teacher, TransientError
from toolforge.errors import MissingExtraError, UsageError

DEFAULT_TEACHER = "llamacpp:smollm2"


@dataclass(frozen=True)
class BackendInfo:
    prefix: str
    module: str
    summary: str
    needs: tuple[str, ...] = ()  # distributions that must be installed
    extra: str | None = None


BACKENDS: dict[str, BackendInfo] = {
    "openai": BackendInfo("openai", "toolforge.backends.openai_compat",
                          "OpenAI-compatible HTTP server (OpenAI, vLLM, SGLang, llama.cpp, Ollama)",
                          ("aiohttp",)),
    "vllm": BackendInfo("vllm", "toolforge.backends.vllm_offline", "vLLM offline engine, batched (GPU)",
                        ("vllm",), "vllm"),
    "llamacpp": BackendInfo("llamacpp", "toolforge.backends.llamacpp",
                            "llama.cpp in-process via llama-cpp-python (CPU)", ("llama-cpp-python",), "llamacpp"),
    "hf": BackendInfo("hf", "toolforge.backends.hf_local",
                      "a local transformers model or LoRA adapter, batched (CPU or GPU)",
                      ("transformers", "torch", "peft"), "train"),
    "fake": BackendInfo("fake", "toolforge.backends.fake", "scripted or schema-driven test double", ()),
}


def unavailable_reason(info: BackendInfo) -> str | None:
    """Why a backend cannot load here, or None when it can."""
    for dist in info.needs:
        try:
            md.version(dist)
        except md.PackageNotFoundError:
            how = f"pip install 'toolforge[{info.extra}]'" if info.extra else f"pip install {dist}"
            return f"needs {dist}: {how}"
    return None


def list_backends() -> list[dict[str, Any]]:
    """Every registered backend with its availability (``available``, ``why``)."""
    out = []
    for info in BACKENDS.values():
        why = unavailable_reason(info)
        out.append({"prefix": info.prefix, "summary": info.summary, "available": why is None, "why": why})
    return out


def split_spec(spec: str) -> tuple[str, str]:
    if ":" not in spec:
        raise UsageError(f"unknown teacher spec {spec!r}",
                         hint="use openai:MODEL[@BASE_URL], vllm:MODEL, llamacpp:NAME_OR_PATH or fake:")
    prefix, rest = spec.split(":", 1)
    if prefix not in BACKENDS:
        raise UsageError(f"unknown teacher backend {prefix!r} in {spec!r}",
                         hint=f"choose one of: {', '.join(p + ':' for p in BACKENDS)}")
    return prefix, rest


def load_teacher(spec: str, **options: Any) -> Teacher:
    """Build the teacher a spec string names. Options are the backend's own (pydantic-checked)."""
    prefix, rest = split_spec(spec)
    info = BACKENDS[prefix]
    why = unavailable_reason(info)
    if why is not None:
        raise MissingExtraError(f"the {prefix}: teacher backend ({info.summary})", extra=info.extra)
    module = importlib.import_module(info.module)
    teacher: Teacher = module.from_spec(rest, **options)
    return teacher


__all__ = [
    "BACKENDS", "DEFAULT_TEACHER", "BackendInfo", "ChatRequest", "ChatResponse", "Teacher",
    "TransientError", "list_backends", "load_teacher", "split_spec", "unavailable_reason",
]
