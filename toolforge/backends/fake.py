"""``fake:``: a test double registered like any other backend.

Two ways to answer, in this order:

1. scripted: replies queued with :meth:`FakeTeacher.enqueue` (text, a
   ``ChatResponse``, or an exception to raise, e.g. ``TransientError``);
2. schema-driven: with a ``response_schema``, a valid instance of it, made
   from the schema alone (:mod:`toolforge.generate.instances`), deterministic
   for the request's seed. For the generation plan it also copies a value of
   each later call's arguments into the previous result, so that sequential
   records show the data flow, and puts the calls' argument values in the
   request and a value of each result in the answer (grounded records). This
   is what ``--dry-run`` and the reliability suite use: valid records for
   every scenario without a model.

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


def _leaf_values(value: Any, out: list[str]) -> list[str]:
    if isinstance(value, bool) or value is None:
        return out
    if isinstance(value, (int, float)):
        out.append(json.dumps(value))
    elif isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _leaf_values(v, out)
    elif isinstance(value, list):
        for v in value:
            _leaf_values(v, out)
    return out


def _extend(text: Any, values: list[str], limit: int) -> Any:
    if not isinstance(text, str):
        return text
    for v in values:
        if v not in text and len(text) + 2 + len(v) <= limit:
            text = f"{text}; {v}"
    return text


def ground_plan(plan: Any, schema: dict[str, Any]) -> Any:
    """Put every argument value in the request and a value of each result in the answer.

    Generation's grounding checks reject argument values the request does not hold and results
    the answer ignores; random words would fail them, so the fake says what it calls with.
    """
    if not isinstance(plan, dict):
        return plan
    turns = plan.get("turns")
    if "failed" in plan:  # error_recovery: the failed call, then the retry
        turns = [[plan[k]] for k in ("failed", "retry") if isinstance(plan.get(k), dict)]
    if not isinstance(turns, list):
        return plan
    asked: list[str] = []
    told: list[str] = []
    seen: set[str] = set()  # values of earlier results: a later call takes those from there (the chain)
    for turn in turns:
        calls = [c for c in turn if isinstance(c, dict)] if isinstance(turn, list) else []
        for call in calls:
            asked += [v for v in _leaf_values(call.get("arguments"), []) if v not in asked and v not in seen]
        for call in calls:
            seen.update(_leaf_values(call.get("result"), []))
        for call in calls:
            res = _leaf_values(call.get("result"), [])
            res = [v for v in res if not v.lstrip("-").isdigit()] or res  # a word says more than a status 0
            if res and res[0] not in told:
                told.append(res[0])
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for key, values in (("user", asked), ("answer", told)):
        limit = (props.get(key) or {}).get("maxLength", 10_000)
        plan[key] = _extend(plan.get(key), values, limit)
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
        plan = ground_plan(link_turns(instance(req.response_schema, rng)), req.response_schema)
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
