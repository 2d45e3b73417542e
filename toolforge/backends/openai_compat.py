"""``openai:MODEL[@BASE_URL]``: any OpenAI-compatible chat completions server.

Works with OpenAI, a vLLM or SGLang server, the llama.cpp server and Ollama.
Request shaping (:func:`build_payload`) and response reading
(:func:`parse_completion`) are pure functions; :class:`OpenAITeacher` is a thin
aiohttp transport around them (aiohttp's connection pool stays cheap at
concurrency 64, where httpx's spends milliseconds per request choosing a
connection; see benchmarks/bench_generate.py).

Structured output dialects:

- ``json_schema``: ``{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}``
  (OpenAI, vLLM, SGLang, Ollama).
- ``json_object``: ``{"type": "json_object", "schema": ...}`` (the llama.cpp
  server, which answers 500 to ``json_schema``).
- ``none``: the schema is only described in the prompt.
- ``auto`` (default): ``json_object`` when ``GET /models`` shows a llama.cpp
  server, else ``json_schema``.

API keys come only from the environment. The key named by ``api_key_env``
(default ``OPENAI_API_KEY``) is sent to the official OpenAI endpoint; to a
custom base URL it is sent only when ``api_key_env`` is given explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from toolforge.backends.base import (
    ChatRequest,
    ChatResponse,
    Dialect,
    FatalBackendError,
    TransientError,
    parse_retry_after,
)
from toolforge.errors import BackendError, UsageError
from toolforge.redact import redact_url

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"


class OpenAIOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    base_url: str = OPENAI_URL
    dialect: Dialect = "auto"
    api_key_env: str | None = None
    timeout: float = Field(default=120.0, gt=0)
    max_connections: int = Field(default=64, ge=1)
    extra_body: dict[str, Any] = Field(default_factory=dict)


def parse_spec(rest: str) -> tuple[str, str | None]:
    """``MODEL[@BASE_URL]`` -> (model, base_url or None)."""
    model, sep, url = rest.partition("@")
    if not model:
        raise UsageError("openai: teacher needs a model name", hint="e.g. openai:gpt-4o-mini or openai:m@http://127.0.0.1:8000/v1")
    if sep and not url.startswith(("http://", "https://")):
        raise UsageError(f"base URL {url!r} must start with http:// or https://")
    return model, (url.rstrip("/") if sep else None)


def build_payload(req: ChatRequest, *, model: str, dialect: str, extra_body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for a request, in a dialect."""
    body: dict[str, Any] = {
        "model": model,
        "messages": req.messages,
        "temperature": req.temperature,
        "max_tokens": req.max_tokens,
    }
    if req.seed is not None:
        body["seed"] = req.seed
    if req.tools:
        body["tools"] = req.tools
        if req.tool_choice is not None:
            body["tool_choice"] = req.tool_choice
    if req.response_schema is not None:
        if dialect == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "conversation", "schema": req.response_schema, "strict": False},
            }
        elif dialect == "json_object":
            body["response_format"] = {"type": "json_object", "schema": req.response_schema}
        elif dialect != "none":
            raise UsageError(f"unknown structured-output dialect {dialect!r}")
    if extra_body:
        body.update(extra_body)
    return body


def encode_payload(req: ChatRequest, *, model: str, dialect: str, extra_body: dict[str, Any] | None = None,
                   cache: dict[tuple[int, str], tuple[Any, str]] | None = None) -> bytes:
    """``json.dumps(build_payload(...))``, with the response schema's JSON reused across requests.

    Generation sends the same few schemas thousands of times; ``cache`` maps the
    schema's ``properties`` object (kept alive in the entry, checked by identity)
    to its encoded response_format.
    """
    if cache is None or req.response_schema is None or dialect == "none" or extra_body:
        return json.dumps(build_payload(req, model=model, dialect=dialect, extra_body=extra_body)).encode()
    anchor = req.response_schema.get("properties", req.response_schema)
    key = (id(anchor), dialect)
    hit = cache.get(key)
    if hit is None or hit[0] is not anchor:
        rf = build_payload(req, model=model, dialect=dialect)["response_format"]
        hit = cache[key] = (anchor, json.dumps(rf))
        if len(cache) > 4096:
            cache.pop(next(iter(cache)))
    body = build_payload(req.model_copy(update={"response_schema": None}), model=model, dialect=dialect)
    text = json.dumps(body)
    return (text[:-1] + ', "response_format": ' + hit[1] + "}").encode()


def parse_completion(data: Any) -> ChatResponse:
    """Read a chat completion body; a malformed body is a TransientError (servers glitch)."""
    try:
        choice = data["choices"][0]
        msg = choice.get("message") or {}
    except (KeyError, IndexError, TypeError):
        raise TransientError("bad_response", "completion has no choices[0].message") from None
    calls = None
    if msg.get("tool_calls"):
        calls = []
        for c in msg["tool_calls"]:
            fn = c.get("function") or {}
            args = fn.get("arguments")
            if isinstance(args, str):
                with contextlib.suppress(json.JSONDecodeError):  # left as text: the validator reports it
                    args = json.loads(args) if args.strip() else {}
            calls.append({"name": fn.get("name"), "arguments": args})
    return ChatResponse(text=msg.get("content") or "", tool_calls=calls, finish_reason=choice.get("finish_reason"),
                        usage=data.get("usage") or {})


def detect_dialect(models_body: Any) -> str:
    """``json_object`` for a llama.cpp server (Python or C++), else ``json_schema``."""
    try:
        owners = {str(m.get("owned_by", "")).lower() for m in models_body.get("data", [])}
    except AttributeError:
        return "json_schema"
    return "json_object" if owners & {"me", "llamacpp", "llama.cpp"} else "json_schema"


class OpenAITeacher:
    supports_schema = True
    supports_tools = True

    def __init__(self, opts: OpenAIOptions, *, explicit_url: bool) -> None:
        self.opts = opts
        # the name goes into records' meta, logs and cards: never with a password or key from the URL
        self.name = f"openai:{opts.model}" + (f"@{redact_url(opts.base_url)}" if explicit_url else "")
        self.dialect: str = opts.dialect
        key_env = opts.api_key_env or ("OPENAI_API_KEY" if not explicit_url else None)
        self._key: SecretStr | None = None
        if key_env:
            value = os.environ.get(key_env)
            if not value:
                raise BackendError(f"the {key_env} environment variable is not set",
                                   hint=f"export {key_env}=... (keys are read only from the environment)")
            self._key = SecretStr(value)
        self._session: Any = None
        self._rf_cache: dict[tuple[int, str], tuple[Any, str]] = {}

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        if self._key is not None:
            h["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        return h

    def session(self) -> Any:
        if self._session is None:
            import aiohttp

            n = self.opts.max_connections
            self._session = aiohttp.ClientSession(
                headers=self._headers(), timeout=aiohttp.ClientTimeout(total=self.opts.timeout),
                connector=aiohttp.TCPConnector(limit=n, limit_per_host=n, ttl_dns_cache=300),
            )
        return self._session

    async def check(self) -> None:
        """Reach the server once (``GET /models``) and settle the dialect; BackendError if unreachable."""
        import aiohttp

        url = f"{self.opts.base_url}/models"
        try:
            async with self.session().get(url, timeout=aiohttp.ClientTimeout(total=min(self.opts.timeout, 10.0))) as resp:
                status = resp.status
                body = await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise BackendError(f"cannot reach teacher server {self.opts.base_url}: {type(exc).__name__}",
                               hint="start the server or fix the base URL in the teacher spec") from None
        if status in (401, 403):
            raise BackendError(f"teacher server {self.opts.base_url} refused the credentials (HTTP {status})",
                               hint="check the API key environment variable")
        if self.dialect == "auto":
            try:
                self.dialect = detect_dialect(json.loads(body)) if status == 200 else "json_schema"
            except ValueError:
                self.dialect = "json_schema"
            log.info("teacher %s: structured output dialect %s", self.name, self.dialect)

    async def chat(self, req: ChatRequest) -> ChatResponse:
        import aiohttp

        dialect = "json_schema" if self.dialect == "auto" else self.dialect
        body = encode_payload(req, model=self.opts.model, dialect=dialect, extra_body=self.opts.extra_body,
                              cache=self._rf_cache)
        try:
            async with self.session().post(f"{self.opts.base_url}/chat/completions", data=body) as resp:
                status = resp.status
                raw = await resp.read()
                retry_after = resp.headers.get("Retry-After")
        except asyncio.TimeoutError:
            raise TransientError("timeout", f"no answer within {self.opts.timeout:g}s") from None
        except aiohttp.ClientError as exc:
            raise TransientError("connection", f"{type(exc).__name__}: {exc}") from None
        if status == 429 or status >= 500:
            raise TransientError(f"http_{status}", f"HTTP {status}: {raw[:200].decode('utf-8', 'replace')}",
                                 retry_after=parse_retry_after(retry_after))
        if status >= 400:
            raise FatalBackendError(f"teacher server answered HTTP {status}: {raw[:200].decode('utf-8', 'replace')}",
                                    hint="check the model name, the dialect (--dialect) and the request options")
        try:
            data = json.loads(raw)
        except ValueError:
            raise TransientError("bad_response", "response body is not JSON") from None
        return parse_completion(data)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def from_spec(rest: str, **options: Any) -> OpenAITeacher:
    model, url = parse_spec(rest)
    if url is not None:
        options["base_url"] = url
    opts = OpenAIOptions(model=model, **options)
    return OpenAITeacher(opts, explicit_url=opts.base_url != OPENAI_URL)
