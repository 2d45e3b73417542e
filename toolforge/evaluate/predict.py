"""Generate predictions with any teacher backend (``toolforge eval --model SPEC``).

Each scored turn becomes one chat request: the conversation up to that
assistant message, with the record's tools. Native ``tool_calls`` from the
server (OpenAI-compatible servers with tool support) are kept as structured
calls; otherwise the raw text is kept as ``output`` and parsed later with the
family parser. Tool names the OpenAI wire format refuses (BFCL's
``math.factorial``) are sent with ``_`` instead and mapped back.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolforge.evaluate.predictions import prediction_line

log = logging.getLogger(__name__)
_WIRE_NAME = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass
class PredictTask:
    id: str
    turn: int | None
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]


def wire_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Record messages as OpenAI chat messages (arguments as JSON strings, reasoning dropped)."""
    import json

    out = []
    for m in messages:
        msg: dict[str, Any] = {"role": m["role"], "content": m.get("content") or ""}
        if m.get("tool_calls"):
            msg["tool_calls"] = [
                {"id": c["id"], "type": "function",
                 "function": {"name": c["function"]["name"],
                              "arguments": json.dumps(c["function"].get("arguments") or {}, ensure_ascii=False)}}
                for c in m["tool_calls"]
            ]
        if m.get("tool_call_id"):
            msg["tool_call_id"] = m["tool_call_id"]
        if m.get("name") and m["role"] == "tool":
            msg["name"] = m["name"]
        out.append(msg)
    return out


def wire_tools(tools: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Tools with wire-safe names, and the map from wire name back to the real one."""
    back: dict[str, str] = {}
    out = []
    for t in tools:
        fn = dict(t.get("function", t))
        real = fn["name"]
        wire = _WIRE_NAME.sub("_", real)[:64] or "tool"
        back[wire] = real
        fn["name"] = wire
        out.append({"type": "function", "function": fn})
    return out, back


def unwire_names(calls: list[dict[str, Any]], tool_names: Sequence[str]) -> list[dict[str, Any]]:
    """Read a called name that is an offered tool's wire-safe form as that tool (the model saw
    ``math_factorial`` for ``math.factorial``); other names are left as they are."""
    known = set(tool_names)
    wire: dict[str, list[str]] = {}
    for n in tool_names:
        wire.setdefault(_WIRE_NAME.sub("_", n)[:64] or "tool", []).append(n)
    out = []
    for c in calls:
        name = c["name"]
        if name not in known and len(wire.get(name, [])) == 1:
            c = {**c, "name": wire[name][0]}
        out.append(c)
    return out


async def _ask(teacher: Any, task: PredictTask, *, temperature: float, max_tokens: int, seed: int | None,
               attempts: int) -> dict[str, Any]:
    from toolforge.backends import ChatRequest, TransientError

    tools, back = wire_tools(task.tools)
    # tool_choice is left to the server's default: vLLM refuses an explicit "auto" unless it was
    # started with --enable-auto-tool-choice, and servers without native tool calls answer in text
    req = ChatRequest(messages=wire_messages(task.messages), tools=tools or None, temperature=temperature,
                      max_tokens=max_tokens, seed=seed)
    for attempt in range(1, attempts + 1):
        try:
            resp = await teacher.chat(req)
            break
        except TransientError as exc:
            if attempt == attempts:
                log.warning("%s turn %s: giving up after %d attempts (%s)", task.id, task.turn, attempts, exc.code)
                return prediction_line(task.id, task.turn, output="") | {"error": exc.code}
            delay = exc.retry_after if exc.retry_after is not None else min(30.0, 2 ** attempt + random.random())
            await asyncio.sleep(delay)
    if resp.tool_calls:
        calls = [{"name": back.get(c["name"], c["name"]), "arguments": c.get("arguments") or {}}
                 for c in resp.tool_calls]
        return prediction_line(task.id, task.turn, tool_calls=calls, output=resp.text or None)
    return prediction_line(task.id, task.turn, output=resp.text or "")


async def _run(teacher: Any, tasks: Sequence[PredictTask], *, concurrency: int, **kw: Any) -> list[dict[str, Any]]:
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(t: PredictTask) -> dict[str, Any]:
        async with sem:
            return await _ask(teacher, t, **kw)

    try:
        return list(await asyncio.gather(*(one(t) for t in tasks)))
    finally:
        await teacher.aclose()


def generate_predictions(spec: str, tasks: Sequence[PredictTask], *, temperature: float = 0.0,
                         max_tokens: int = 512, seed: int | None = 0, concurrency: int = 4,
                         attempts: int = 3, teacher_options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One predictions-file line per task, in task order."""
    from toolforge.backends import load_teacher

    teacher = load_teacher(spec, **(teacher_options or {}))
    return asyncio.run(_run(teacher, tasks, concurrency=concurrency, temperature=temperature,
                            max_tokens=max_tokens, seed=seed, attempts=attempts))
