"""``fake:``: a test double registered like any other backend.

Two ways to answer, in this order:

1. scripted: replies queued with :meth:`FakeTeacher.enqueue` (text, a
   ``ChatResponse``, or an exception to raise, e.g. ``TransientError``);
2. schema-driven: with a ``response_schema``, a valid instance of it, made
   from the schema alone (:mod:`toolforge.generate.instances`), deterministic
   for the request's seed. For the generation plan it also copies a value of
   each later call's arguments into the previous result, so that sequential
   records show the data flow. This is what ``--dry-run`` and the reliability
   suite use: valid records for every scenario without a model.

``latency`` (seconds) simulates a slow teacher.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import deque
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolforge.backends.base import ChatRequest, ChatResponse


class FakeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency: float = Field(default=0.0, ge=0)
    seed: int = 0


def _first_string(args: dict[str, Any]) -> str | None:
    for v in args.values():
        if isinstance(v, str) and len(v) >= 2:
            return v
        if isinstance(v, list):
            for x in v:
                if isinstance(x, str) and len(x) >= 2:
                    return x
    return None


def link_turns(plan: Any) -> Any:
    """Make each later call take a value from the previous result (the sequential data flow)."""
    turns = plan.get("turns") if isinstance(plan, dict) else None
    if not isinstance(turns, list):
        return plan
    for prev, cur in zip(turns, turns[1:], strict=False):
        if not (prev and cur and isinstance(prev[0].get("result"), dict)):
            continue
        value = _first_string(cur[0].get("arguments") or {})
        if value is not None:
            prev[0]["result"]["value"] = value
    return plan


class FakeTeacher:
    supports_schema = True
    supports_tools = True

    def __init__(self, opts: FakeOptions | None = None, name: str = "fake:") -> None:
        self.opts = opts or FakeOptions()
        self.name = name
        self.queue: deque[Any] = deque()
        self.requests: list[ChatRequest] = []

    def enqueue(self, *replies: Any) -> None:
        self.queue.extend(replies)

    async def check(self) -> None:
        return None

    def answer(self, req: ChatRequest) -> ChatResponse:
        if self.queue:
            item = self.queue.popleft()
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, ChatResponse):
                return item
            if isinstance(item, (dict, list)):
                item = json.dumps(item)
            return ChatResponse(text=str(item), finish_reason="stop")
        if req.response_schema is None:
            return ChatResponse(text="ok", finish_reason="stop")
        from toolforge.generate.instances import instance

        rng = random.Random(f"{self.opts.seed}:{req.seed}:{len(req.messages)}")
        plan = link_turns(instance(req.response_schema, rng))
        return ChatResponse(text=json.dumps(plan, ensure_ascii=False), finish_reason="stop")

    async def chat(self, req: ChatRequest) -> ChatResponse:
        self.requests.append(req)
        if self.opts.latency:
            await asyncio.sleep(self.opts.latency)
        return self.answer(req)

    async def aclose(self) -> None:
        return None


def from_spec(rest: str, **options: Any) -> FakeTeacher:
    return FakeTeacher(FakeOptions(**options), name=f"fake:{rest}")
