"""The teacher interface: one Protocol, plain request/response models, transport errors.

A backend turns a :class:`ChatRequest` into a :class:`ChatResponse`. Request
shaping (what goes on the wire) is a pure function per backend, tested without
a network; transport is a thin layer. Backends raise :class:`TransientError`
for failures worth retrying (429, 5xx, timeouts, connection resets), carrying
the server's ``Retry-After`` when it gave one; the generation runner owns the
retry policy (bounded attempts, exponential backoff with jitter).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from toolforge.errors import BackendError

# How structured output is sent to a server: OpenAI/vLLM speak ``json_schema``;
# the llama.cpp server answers 500 to that and takes ``json_object`` + ``schema``.
Dialect = Literal["auto", "json_schema", "json_object", "none"]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    response_schema: dict[str, Any] | None = None
    temperature: float = 0.7
    max_tokens: int = 1024
    seed: int | None = None
    tool_choice: str | dict[str, Any] | None = None


class ChatResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class Teacher(Protocol):
    """What the generator needs from a teacher backend."""

    name: str
    supports_schema: bool
    supports_tools: bool

    async def chat(self, req: ChatRequest) -> ChatResponse: ...

    async def aclose(self) -> None: ...


class TransientError(Exception):
    """A failure that a retry may fix. ``code`` is stored as the failure reason."""

    def __init__(self, code: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


class FatalBackendError(BackendError):
    """A failure no retry can fix (bad request, auth, missing model)."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
