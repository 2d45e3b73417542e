"""The teacher fleet's routing and health logic, against in-memory endpoints (no network)."""

from __future__ import annotations

import asyncio

import pytest

from toolforge.backends.base import ChatRequest, ChatResponse, FatalBackendError, TransientError
from toolforge.backends.fleet import (
    FleetOptions,
    FleetTeacher,
    endpoint_dicts,
    load_fleet,
    parse_endpoints,
)
from toolforge.errors import UsageError

REQ = ChatRequest(messages=[{"role": "user", "content": "hi"}])


class Endpoint:
    """A teacher that answers after ``delay`` seconds, or fails while ``failing`` is set."""

    supports_schema = True
    supports_tools = True

    def __init__(self, name: str, delay: float = 0.0) -> None:
        self.name = name
        self.delay = delay
        self.failing: str | None = None
        self.calls = 0
        self.inflight = 0
        self.peak = 0
        self.closed = False

    async def chat(self, req: ChatRequest) -> ChatResponse:
        self.calls += 1
        self.inflight += 1
        self.peak = max(self.peak, self.inflight)
        try:
            await asyncio.sleep(self.delay)
            if self.failing == "transient":
                raise TransientError("connection", "reset")
            if self.failing == "fatal":
                raise FatalBackendError("HTTP 400")
            return ChatResponse(text=self.name)
        finally:
            self.inflight -= 1

    async def aclose(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def run(coro):
    return asyncio.run(coro)


def test_least_outstanding_spreads_concurrent_requests_evenly():
    eps = [Endpoint(f"e{i}", delay=0.01) for i in range(4)]
    fleet = FleetTeacher(eps)

    async def go():
        return await asyncio.gather(*(fleet.chat(REQ) for _ in range(40)))

    out = run(go())
    assert len(out) == 40
    assert [e.calls for e in eps] == [10, 10, 10, 10]
    assert all(e.peak <= 10 for e in eps)


def test_weights_and_per_endpoint_concurrency():
    big, small = Endpoint("big", delay=0.01), Endpoint("small", delay=0.01)
    fleet = FleetTeacher([big, small], weights=[3, 1], limits=[None, 2])

    async def go():
        return await asyncio.gather(*(fleet.chat(REQ) for _ in range(40)))

    run(go())
    assert small.peak <= 2
    assert big.calls > 2 * small.calls
    assert fleet.max_concurrency is None  # one endpoint has no limit
    assert FleetTeacher([Endpoint("a"), Endpoint("b")], limits=[2, 3]).max_concurrency == 5


def test_a_failure_is_retried_on_another_endpoint_and_repeated_failures_take_it_out():
    clock = Clock()
    bad, good = Endpoint("bad"), Endpoint("good")
    bad.failing = "transient"
    fleet = FleetTeacher([bad, good], options=FleetOptions(fail_threshold=3, probe_after=10), clock=clock)

    async def go(n):
        return [await fleet.chat(REQ) for _ in range(n)]

    out = run(go(6))
    assert [r.text for r in out] == ["good"] * 6          # every request answered despite the dead endpoint
    assert bad.calls == 3                                 # taken out after 3 consecutive failures
    assert fleet.snapshot()[0]["state"] == "down"
    run(go(5))
    assert bad.calls == 3                                 # not asked while out

    clock.t += 10                                         # probe time: one request probes, fails, back off doubled
    run(go(1))
    assert bad.calls == 4 and fleet.snapshot()[0]["state"] == "down"
    clock.t += 10
    run(go(1))
    assert bad.calls == 4                                 # the second wait is 20 s
    clock.t += 10
    bad.failing = None                                    # it recovered: the probe succeeds, it is back
    run(go(1))
    assert bad.calls == 5 and fleet.snapshot()[0]["state"] == "up"
    bad.delay = good.delay = 0.01

    async def burst():
        return await asyncio.gather(*(fleet.chat(REQ) for _ in range(10)))

    run(burst())
    assert bad.calls >= 9                                 # shares the load again


def test_all_endpoints_down_hands_the_failure_to_the_runner():
    clock = Clock()
    a, b = Endpoint("a"), Endpoint("b")
    a.failing = b.failing = "transient"
    fleet = FleetTeacher([a, b], options=FleetOptions(fail_threshold=1, probe_after=7), clock=clock)
    with pytest.raises(TransientError) as first:
        run(fleet.chat(REQ))
    assert first.value.code == "connection"
    with pytest.raises(TransientError) as later:
        run(fleet.chat(REQ))
    assert later.value.code == "fleet_down" and later.value.retry_after == pytest.approx(7)


def test_fatal_errors_are_not_retried_elsewhere():
    a, b = Endpoint("a"), Endpoint("b")
    a.failing = "fatal"
    fleet = FleetTeacher([a, b])
    with pytest.raises(FatalBackendError):
        run(fleet.chat(REQ))
    assert b.calls == 0 and fleet.snapshot()[0]["outstanding"] == 0


def test_check_starts_unreachable_endpoints_out_and_fails_when_none_answers():
    from toolforge.errors import BackendError

    class Unreachable(Endpoint):
        async def check(self) -> None:
            raise BackendError("cannot reach teacher server")

    clock = Clock()
    fleet = FleetTeacher([Unreachable("x"), Endpoint("y")], clock=clock)
    run(fleet.check())
    assert [s["state"] for s in fleet.snapshot()] == ["down", "up"]
    with pytest.raises(BackendError):
        run(FleetTeacher([Unreachable("x"), Unreachable("z")]).check())


def test_specs_and_mappings_parse_and_bad_ones_are_usage_errors():
    eps = parse_endpoints(["fake:", {"spec": "fake:", "weight": 2, "concurrency": 8}])
    assert [(e.weight, e.concurrency) for e in eps] == [(1.0, None), (2.0, 8)]
    assert endpoint_dicts(["fake:"])[0] == {"spec": "fake:", "weight": 1.0, "concurrency": None, "options": {}}
    with pytest.raises(UsageError, match="weight"):
        parse_endpoints([{"spec": "fake:", "weight": 0}])
    with pytest.raises(UsageError, match="bogus"):
        parse_endpoints([{"spec": "fake:", "bogus": 1}])
    fleet = load_fleet(["fake:", "fake:"])
    assert len(fleet.endpoints) == 2 and fleet.name == "fake:"
    with pytest.raises(UsageError):
        load_fleet(["nope:x"])


def test_aclose_closes_every_endpoint():
    eps = [Endpoint("a"), Endpoint("b")]
    run(FleetTeacher(eps).aclose())
    assert all(e.closed for e in eps)
