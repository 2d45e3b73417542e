"""Retries of transient teacher failures: one policy for every path that asks a teacher.

A :class:`~toolforge.backends.base.TransientError` (HTTP 429/5xx, a timeout, a
cut-off reply) is retried up to ``max_retries`` times with exponential backoff
and jitter, or after the server's ``Retry-After`` (at most :data:`RETRY_AFTER_MAX`
seconds). Anything else (:class:`~toolforge.backends.base.FatalBackendError`: bad
request, auth, missing model) is raised at once: no retry can fix it.

The generation runner's requests, the stepwise generator's environment calls
(the tool simulator is the teacher) and :func:`toolforge.generate.session.generate_sessions`
all go through :func:`with_retries`; the numbers are ``GenerateConfig``'s
``max_retries``, ``backoff_base`` and ``backoff_max``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from toolforge.backends.base import TransientError

T = TypeVar("T")
RETRY_AFTER_MAX = 300.0  # a server asking for more than this is waited on for this long, then retried


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int
    backoff_base: float
    backoff_max: float

    @classmethod
    def of(cls, cfg: Any) -> RetryPolicy:
        """The policy of a :class:`~toolforge.generate.config.GenerateConfig` (or anything with its three fields)."""
        return cls(cfg.max_retries, cfg.backoff_base, cfg.backoff_max)

    @classmethod
    def default(cls) -> RetryPolicy:
        """``GenerateConfig``'s defaults (what ``toolforge generate`` uses unless told otherwise)."""
        from toolforge.generate.config import GenerateConfig

        fields = GenerateConfig.model_fields
        return cls(fields["max_retries"].default, fields["backoff_base"].default, fields["backoff_max"].default)

    def delay(self, retry: int, exc: TransientError, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0-based) after ``exc``."""
        if exc.retry_after is not None:
            return min(exc.retry_after, RETRY_AFTER_MAX) + rng.uniform(0, 0.1)
        return float(min(self.backoff_max, self.backoff_base * 2 ** retry) * rng.uniform(0.5, 1.0))


async def with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy, rng: random.Random, *,
                       on_transient: Callable[[TransientError, float], None] | None = None) -> T | TransientError:
    """``await call()``, retrying a :class:`TransientError` as ``policy`` says.

    Returns the call's result, or the last ``TransientError`` once every try failed (the caller
    decides what that means: a job given up, a step failed, an error). ``on_transient(exc, seconds)``
    sees each failure as it happens (the runner stores it as a ``transport`` attempt row).
    """
    for t in range(policy.max_retries + 1):
        t0 = time.monotonic()
        try:
            return await call()
        except TransientError as exc:
            if on_transient is not None:
                on_transient(exc, time.monotonic() - t0)
            if t == policy.max_retries:
                return exc
            await asyncio.sleep(policy.delay(t, exc, rng))
    raise AssertionError("unreachable")
