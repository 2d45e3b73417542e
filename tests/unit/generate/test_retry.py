"""The one retry policy of every teacher request (runner, stepwise environment calls, library sessions)."""

from __future__ import annotations

import asyncio
import random

import pytest

from toolforge.backends.base import FatalBackendError, TransientError
from toolforge.generate.config import GenerateConfig
from toolforge.generate.retry import RETRY_AFTER_MAX, RetryPolicy, with_retries


def _calls(*outcomes):
    seen = []

    async def call():
        seen.append(1)
        item = outcomes[len(seen) - 1]
        if isinstance(item, BaseException):
            raise item
        return item

    return call, seen


def test_transient_errors_are_retried_then_the_last_is_returned():
    policy = RetryPolicy(max_retries=2, backoff_base=0.001, backoff_max=0.001)
    failures = []
    call, seen = _calls(TransientError("http_503", "a"), TransientError("timeout", "b"), "ok")
    assert asyncio.run(with_retries(call, policy, random.Random(0), on_transient=lambda e, s: failures.append(e.code))) \
        == "ok"
    assert failures == ["http_503", "timeout"] and len(seen) == 3
    call, seen = _calls(*[TransientError("http_429", "slow down")] * 3, "never")
    res = asyncio.run(with_retries(call, policy, random.Random(0)))
    assert isinstance(res, TransientError) and res.code == "http_429" and len(seen) == 3


def test_a_permanent_error_is_raised_at_once():
    call, seen = _calls(FatalBackendError("HTTP 401"), "never")
    with pytest.raises(FatalBackendError):
        asyncio.run(with_retries(call, RetryPolicy(5, 0.001, 0.001), random.Random(0)))
    assert len(seen) == 1


def test_delays_back_off_and_honour_retry_after_up_to_the_cap():
    p = RetryPolicy(max_retries=6, backoff_base=0.5, backoff_max=3.0)
    rng = random.Random(1)
    plain = TransientError("http_500", "x")
    assert [0.25 <= p.delay(t, plain, rng) <= 0.5 * 2 ** t for t in range(2)] == [True, True]
    assert 1.5 <= p.delay(5, plain, rng) <= 3.0  # capped at backoff_max
    assert 7.0 <= p.delay(0, TransientError("http_429", "x", retry_after=7), rng) <= 7.1
    assert p.delay(0, TransientError("http_429", "x", retry_after=10_000), rng) <= RETRY_AFTER_MAX + 0.1


def test_the_default_policy_is_generate_configs():
    cfg = GenerateConfig(targets={"single_tool": 1}, teacher="fake:")
    assert RetryPolicy.default() == RetryPolicy.of(cfg) == RetryPolicy(cfg.max_retries, cfg.backoff_base, cfg.backoff_max)
