"""A teacher fleet: several endpoints serving one teacher, used as one :class:`Teacher`.

Users who outgrow one server run several (vLLM replicas behind Kubernetes or Ray
Serve, several API keys or regions). ``--teacher openai:M@URL1 --teacher
openai:M@URL2`` (or a recipe's ``teachers:`` list, with weights and per-endpoint
concurrency) builds a :class:`FleetTeacher`; the generation runner sees one
teacher, so there is one store, one run and one resume.

Routing: each request goes to the usable endpoint with the fewest outstanding
requests relative to its weight (``(outstanding + 1) / weight``, ties to the
endpoint listed first); an endpoint at its ``concurrency`` takes no more until
one of its requests ends.

Health: a transient failure (429, 5xx, timeout, reset) is retried at once on
another endpoint; after ``fail_threshold`` consecutive failures an endpoint is
taken out for ``probe_after`` seconds (doubling per failed probe, up to
``probe_max``), then one request probes it: a success puts it back. When no
endpoint is usable the last failure goes to the runner, whose backoff (with a
``Retry-After`` of the time to the next probe) takes over. Errors no retry can
fix (:class:`FatalBackendError`: bad request, auth) are raised as they are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolforge.backends.base import ChatRequest, ChatResponse, Teacher, TransientError
from toolforge.errors import UsageError

log = logging.getLogger(__name__)


class FleetEndpoint(BaseModel):
    """One endpoint of a fleet: a teacher spec with its share of the traffic."""

    model_config = ConfigDict(extra="forbid")

    spec: str = Field(min_length=1, description="a teacher spec, e.g. openai:M@http://10.0.0.5:8000/v1")
    weight: float = Field(default=1.0, gt=0, description="relative share of requests")
    concurrency: int | None = Field(default=None, ge=1, description="requests in flight at once on this endpoint")
    options: dict[str, Any] = Field(default_factory=dict, description="backend options for this endpoint only")


class FleetOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fail_threshold: int = Field(default=3, ge=1, description="consecutive failures that take an endpoint out")
    probe_after: float = Field(default=5.0, ge=0, description="seconds out before the first probe")
    probe_max: float = Field(default=60.0, ge=0, description="longest wait between probes")


def parse_endpoints(items: Sequence[str | dict[str, Any] | FleetEndpoint]) -> list[FleetEndpoint]:
    """Endpoints from spec strings and/or mappings (a recipe's ``teachers:`` list)."""
    from pydantic import ValidationError

    out = []
    for i, item in enumerate(items):
        if isinstance(item, FleetEndpoint):
            out.append(item)
            continue
        try:
            out.append(FleetEndpoint(spec=item) if isinstance(item, str) else FleetEndpoint.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise UsageError(f"teachers[{i}]{'.' + where if where else ''}: {err['msg']}") from None
    if not out:
        raise UsageError("a teacher fleet needs at least one endpoint")
    return out


class _Endpoint:
    __slots__ = ("teacher", "weight", "limit", "index", "outstanding", "failures", "down_until", "backoff",
                 "probing", "served", "failed")

    def __init__(self, teacher: Teacher, weight: float, limit: int | None, index: int) -> None:
        self.teacher = teacher
        self.weight = weight
        self.limit = limit
        self.index = index
        self.outstanding = 0
        self.failures = 0            # consecutive transient failures
        self.down_until: float | None = None
        self.backoff = 0.0
        self.probing = False
        self.served = 0
        self.failed = 0

    def state(self, now: float) -> str:
        if self.down_until is None:
            return "up"
        return "probe" if now >= self.down_until else "down"


class FleetTeacher:
    """Several endpoints of one teacher behind the :class:`Teacher` interface."""

    def __init__(self, teachers: Sequence[Teacher], *, weights: Sequence[float] | None = None,
                 limits: Sequence[int | None] | None = None, options: FleetOptions | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not teachers:
            raise UsageError("a teacher fleet needs at least one endpoint")
        weights = list(weights or [1.0] * len(teachers))
        limits = list(limits or [None] * len(teachers))
        self.endpoints = [_Endpoint(t, w, lim, i) for i, (t, w, lim) in enumerate(zip(teachers, weights, limits,
                                                                                        strict=True))]
        self.opts = options or FleetOptions()
        self._clock = clock
        self._changed: asyncio.Condition | None = None
        names = sorted({t.name.split("@", 1)[0] for t in teachers})
        self.name = names[0] if len(names) == 1 else "+".join(names)
        self.supports_schema = all(getattr(t, "supports_schema", False) for t in teachers)
        self.supports_tools = all(getattr(t, "supports_tools", False) for t in teachers)
        per = [e.limit if e.limit is not None else getattr(e.teacher, "max_concurrency", None)
               for e in self.endpoints]
        self.max_concurrency: int | None = sum(per) if all(p is not None for p in per) else None  # type: ignore[misc]

    # -- health ----------------------------------------------------------------------------------
    def snapshot(self) -> list[dict[str, Any]]:
        """Per endpoint: name, state (up/down/probe), outstanding, served, failed (for logs and tests)."""
        now = self._clock()
        return [{"name": e.teacher.name, "state": e.state(now), "outstanding": e.outstanding, "served": e.served,
                 "failed": e.failed} for e in self.endpoints]

    def _mark_ok(self, e: _Endpoint) -> None:
        if e.down_until is not None:
            log.info("teacher endpoint %s is back", e.teacher.name)
        e.failures, e.down_until, e.backoff, e.probing = 0, None, 0.0, False
        e.served += 1

    def _mark_failed(self, e: _Endpoint, exc: TransientError) -> None:
        e.failed += 1
        e.failures += 1
        if e.probing:  # a failed probe: wait twice as long before the next one
            e.backoff = min(self.opts.probe_max, max(e.backoff * 2, self.opts.probe_after))
            e.down_until = self._clock() + e.backoff
        elif e.down_until is None and e.failures >= self.opts.fail_threshold:
            e.backoff = self.opts.probe_after
            e.down_until = self._clock() + e.backoff
            log.warning("teacher endpoint %s taken out after %d failures (%s); probing in %.0fs",
                        e.teacher.name, e.failures, exc.code, e.backoff)
        e.probing = False

    def _pick(self, exclude: set[int]) -> tuple[_Endpoint | None, bool]:
        """The endpoint for the next request, and whether any endpoint could take one later."""
        now = self._clock()
        best: _Endpoint | None = None
        best_score = 0.0
        waitable = False
        for e in self.endpoints:
            if e.index in exclude:
                continue
            state = e.state(now)
            if state == "down" or (state == "probe" and e.probing):
                continue
            if state == "probe" and e.outstanding:
                waitable = True  # its last requests from before it went down are still ending
                continue
            if e.limit is not None and e.outstanding >= e.limit:
                waitable = True
                continue
            score = (e.outstanding + 1) / e.weight
            if best is None or score < best_score:
                best, best_score = e, score
        return best, waitable

    def _next_probe_in(self) -> float | None:
        now = self._clock()
        waits = [e.down_until - now for e in self.endpoints if e.down_until is not None]
        return max(0.0, min(waits)) if waits else None

    async def _acquire(self, exclude: set[int]) -> _Endpoint | None:
        if self._changed is None:
            self._changed = asyncio.Condition()
        while True:
            e, waitable = self._pick(exclude)
            if e is not None:
                if e.state(self._clock()) == "probe":
                    e.probing = True
                e.outstanding += 1
                return e
            if not waitable:
                return None
            async with self._changed:
                await self._changed.wait()

    async def _release(self, e: _Endpoint) -> None:
        e.outstanding -= 1
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    # -- the Teacher interface -------------------------------------------------------------------
    async def check(self) -> None:
        """Check every endpoint; unreachable ones start taken out, and all unreachable is an error."""
        results = await asyncio.gather(*(self._check_one(e) for e in self.endpoints), return_exceptions=True)
        bad = [(e, r) for e, r in zip(self.endpoints, results, strict=True) if isinstance(r, BaseException)]
        for _e, r in bad:
            if not isinstance(r, Exception):
                raise r
        if len(bad) == len(self.endpoints):
            raise bad[0][1]
        for e, r in bad:
            log.warning("teacher endpoint %s is not reachable (%s); it starts out of the fleet", e.teacher.name, r)
            e.failures, e.backoff = self.opts.fail_threshold, self.opts.probe_after
            e.down_until = self._clock() + self.opts.probe_after

    @staticmethod
    async def _check_one(e: _Endpoint) -> None:
        check = getattr(e.teacher, "check", None)
        if check is not None:
            await check()

    async def chat(self, req: ChatRequest) -> ChatResponse:
        tried: set[int] = set()
        last: TransientError | None = None
        while True:
            e = await self._acquire(tried)
            if e is None:
                if last is None:
                    wait = self._next_probe_in()
                    raise TransientError("fleet_down", "no teacher endpoint is usable", retry_after=wait)
                raise last
            try:
                resp = await e.teacher.chat(req)
            except TransientError as exc:
                self._mark_failed(e, exc)
                tried.add(e.index)
                last = exc
                continue
            except BaseException:
                e.probing = False
                raise
            finally:
                await self._release(e)
            self._mark_ok(e)
            return resp

    async def aclose(self) -> None:
        for e in self.endpoints:
            await e.teacher.aclose()


def load_fleet(endpoints: Sequence[str | dict[str, Any] | FleetEndpoint], *, fleet: dict[str, Any] | None = None,
               **options: Any) -> FleetTeacher:
    """Build a fleet; ``options`` are shared backend options, each endpoint's own ``options`` win."""
    from pydantic import ValidationError

    from toolforge.backends import load_teacher

    eps = parse_endpoints(endpoints)
    try:
        fopts = FleetOptions.model_validate(fleet or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"fleet option {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    teachers = [load_teacher(e.spec, **{**options, **e.options}) for e in eps]
    return FleetTeacher(teachers, weights=[e.weight for e in eps], limits=[e.concurrency for e in eps],
                        options=fopts)


def endpoint_dicts(items: Sequence[str | dict[str, Any] | FleetEndpoint]) -> list[dict[str, Any]]:
    """Endpoints as plain mappings (what a stored run config keeps); UsageError on a bad one."""
    return [e.model_dump() for e in parse_endpoints(items)] if items else []
