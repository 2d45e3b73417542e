"""Multi-turn sessions (issue #15): a simulated user with a goal and a persona talks with the assistant.

APIGen-MT's idea, blueprint then simulate: a session starts from a goal and a
persona (from the seed pools or given), then alternates, for 3 to 20 rounds,

1. the **user simulator** (a teacher request, ``prompts/_session/user*.j2``)
   writes the user's next message, or ends the session when the goal is met or
   abandoned (never before ``min_rounds``);
2. the **assistant** (a teacher request, ``prompts/_session/assistant*.j2``)
   makes calls, whose results come from the tool :class:`~toolforge.environment.Environment`
   (a user's mock, the world state, safe tools run for real, or the simulator),
   up to ``max_steps`` call steps, then answers from the results.

After every round the conversation so far goes through the same validators
as any record (:func:`toolforge.validate.validate_record`: structure, arguments,
grounding); a round with error-level issues is re-asked with them, up to
``max_attempts`` times, then the session ends without a record. The record has
no single-request scenario (``scenario`` None; ``meta.mode = "session"``,
``meta.rounds``, the persona, the goal and where each result came from).
Model output is data: only ever ``json.loads``-ed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from toolforge.backends.base import ChatRequest
from toolforge.environment import Environment, WorldState
from toolforge.record import Record, Tool
from toolforge.validate.issues import Issue

log = logging.getLogger(__name__)

MIN_ROUNDS, MAX_ROUNDS = 3, 20

USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"message": {"type": "string", "maxLength": 800}, "goal_met": {"type": "boolean"},
                   "abandon": {"type": "boolean"}},
    "required": ["message", "goal_met", "abandon"], "additionalProperties": False,
}


def assistant_schema(tools: list[Tool]) -> dict[str, Any]:
    """Calls to the offered tools (names as an enum, arguments per tool) or an answer."""
    call = {"anyOf": [{"type": "object", "properties": {"name": {"const": t.function.name},
                                                         "arguments": t.function.parameters},
                       "required": ["name", "arguments"], "additionalProperties": False} for t in tools]}
    return {"type": "object", "properties": {"calls": {"type": "array", "items": call, "maxItems": 4},
                                             "answer": {"type": "string", "maxLength": 1500}},
            "additionalProperties": False}


@dataclass
class SessionSpec:
    """What one session is about: who the user is and what they want."""

    persona: str
    goal: str
    min_rounds: int = 5
    max_rounds: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        from toolforge.errors import UsageError

        if not (MIN_ROUNDS <= self.min_rounds <= self.max_rounds <= MAX_ROUNDS):
            raise UsageError(f"session rounds must satisfy {MIN_ROUNDS} <= min_rounds <= max_rounds <= {MAX_ROUNDS}")


@dataclass
class SessionResult:
    record: Record | None
    rounds: int
    ended: str                                   # goal_met, abandon, max_rounds, gave_up, user_failed
    issues: list[Issue] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)  # one per teacher reply: role, round, outcome


def _transcript(messages: list[dict[str, Any]]) -> str:
    lines = []
    for m in messages:
        role = m["role"]
        if role == "system":
            continue
        if role == "assistant" and m.get("tool_calls"):
            calls = "; ".join(f"{c['function']['name']}({json.dumps(c['function']['arguments'], ensure_ascii=False)})"
                              for c in m["tool_calls"])
            lines.append(f"[assistant] calls: {calls}")
        elif role == "tool":
            lines.append(f"[tool {m.get('name')}] {m.get('content')}")
        else:
            lines.append(f"[{role}] {m.get('content')}")
    return "\n".join(lines)


def _render(template: str, root: str | None, /, **ctx: Any) -> list[dict[str, str]]:
    from toolforge.generate.prompts import environment

    env = environment(root)
    system = env.get_template(f"_session/{template}_system.j2").render().strip()
    user = env.get_template(f"_session/{template}.j2").render(**ctx).strip()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _loads(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class Session:
    """One session between a simulated user and the assistant (both teacher requests)."""

    def __init__(self, teacher: Any, tools: list[Tool], env: Environment, spec: SessionSpec, *,
                 system_prompt: str = "You are a helpful assistant with access to tools.", max_steps: int = 3,
                 max_attempts: int = 3, temperature: float = 0.7, root: str | None = None) -> None:
        self.teacher, self.tools, self.env, self.spec = teacher, tools, env, spec
        self.max_steps, self.max_attempts, self.temperature, self.root = max_steps, max_attempts, temperature, root
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
        self.world = WorldState()
        self.sources: dict[str, int] = {}
        self._n_calls = 0
        self._tool_dicts = [t.model_dump(exclude_none=True) for t in tools]
        self._schema = assistant_schema(tools)

    async def _ask(self, messages: list[dict[str, Any]], schema: dict[str, Any], seed: int) -> str:
        resp = await self.teacher.chat(ChatRequest(messages=messages, response_schema=schema,
                                                   temperature=self.temperature, max_tokens=1024, seed=seed))
        return str(resp.text or "")

    async def _user_turn(self, rnd: int, out: SessionResult) -> str | None:
        """The user's next message, or None when the simulator ends the session (``out.ended`` says why)."""
        prompt = _render("user", self.root, persona=self.spec.persona, goal=self.spec.goal, round=rnd,
                         min_rounds=self.spec.min_rounds, transcript=_transcript(self.messages))
        for attempt in range(self.max_attempts):
            text = await self._ask(prompt, USER_SCHEMA, self.spec.seed * 1000 + rnd * 10 + attempt)
            value = _loads(text)
            ok = value is not None and isinstance(value.get("message", ""), str)
            out.attempts.append({"role": "user", "round": rnd, "outcome": "ok" if ok else "unreadable"})
            if not ok:
                continue
            assert value is not None
            if rnd >= self.spec.min_rounds and (value.get("goal_met") or value.get("abandon")):
                out.ended = "goal_met" if value.get("goal_met") else "abandon"
                return None
            msg = value.get("message", "").strip()
            if msg:
                return str(msg)
        out.ended = "user_failed"
        return None

    async def _assistant_turn(self, rnd: int, reask: list[Issue] | None) -> list[dict[str, Any]]:
        """The assistant's messages for one round: call steps with their results, then the answer."""
        from toolforge.generate.prompts import render_reask, tool_view

        views = [tool_view(t) for t in self.tools]
        added: list[dict[str, Any]] = []
        for step in range(self.max_steps + 1):
            prompt = _render("assistant", self.root, tools=views, transcript=_transcript(self.messages + added),
                             step=step)
            if reask:
                prompt.append({"role": "user", "content": render_reask(reask, root=self.root)})
            text = await self._ask(prompt, self._schema, self.spec.seed * 1000 + rnd * 10 + step)
            value = _loads(text) or {}
            raw: list[Any] = value["calls"] if isinstance(value.get("calls"), list) else []
            calls = [c for c in raw if isinstance(c, dict) and isinstance(c.get("name"), str)
                     and isinstance(c.get("arguments", {}), dict)]
            if calls and step < self.max_steps:
                msg: dict[str, Any] = {"role": "assistant", "content": "", "tool_calls": []}
                results = []
                for c in calls:
                    self._n_calls += 1
                    cid = f"call_{self._n_calls}"
                    args = c.get("arguments", {})
                    msg["tool_calls"].append({"id": cid, "type": "function",
                                              "function": {"name": c["name"], "arguments": args}})
                    res = await self.env.call(c["name"], args, self.world, seed=self.spec.seed + self._n_calls)
                    self.sources[res.source] = self.sources.get(res.source, 0) + 1
                    content = res.result if res.result is not None else {"error": "no_result",
                                                                          "message": "the tool gave no usable result"}
                    results.append({"role": "tool", "tool_call_id": cid, "name": c["name"],
                                    "content": json.dumps(content, ensure_ascii=False)})
                added += [msg, *results]
                continue
            answer = value.get("answer")
            added.append({"role": "assistant", "content": answer if isinstance(answer, str) else ""})
            break
        return added

    async def run(self) -> SessionResult:
        from toolforge.validate import errors_only, validate_record

        out = SessionResult(None, 0, "max_rounds")
        for rnd in range(self.spec.max_rounds):
            user = await self._user_turn(rnd, out)
            if user is None:
                break
            base = [*self.messages, {"role": "user", "content": user}]
            reask: list[Issue] | None = None
            for attempt in range(self.max_attempts):
                saved_world, saved_calls = self.world, self._n_calls
                self.world = WorldState(files=dict(saved_world.files), ids=dict(saved_world.ids),
                                        history=list(saved_world.history))
                self.messages = base
                added = await self._assistant_turn(rnd, reask)
                issues = errors_only(validate_record({"tools": self._tool_dicts, "messages": base + added}))
                out.attempts.append({"role": "assistant", "round": rnd, "attempt": attempt + 1,
                                     "outcome": "accepted" if not issues else "rejected",
                                     "reason": issues[0].code if issues else None})
                if not issues:
                    self.messages = base + added
                    break
                self.world, self._n_calls = saved_world, saved_calls
                reask = issues
            else:
                out.issues = reask or []
                out.ended = "gave_up"
                self.messages = self.messages[:-1] if self.messages and self.messages[-1]["role"] == "user" else self.messages
                break
            out.rounds = rnd + 1
        if out.rounds < self.spec.min_rounds:
            if out.ended not in ("gave_up", "user_failed"):
                out.ended = "too_short"
            return out
        meta = {"mode": "session", "rounds": out.rounds, "ended": out.ended, "persona": self.spec.persona,
                "goal": self.spec.goal, "seed": self.spec.seed, "teacher": getattr(self.teacher, "name", "?"),
                "result_sources": dict(self.sources)}
        out.record = Record.model_validate({"tools": self._tool_dicts, "messages": self.messages, "meta": meta})
        return out


async def run_session(teacher: Any, tools: list[Tool], env: Environment, spec: SessionSpec, **options: Any) -> SessionResult:
    """Run one session (see the module doc); the record is None when it did not reach ``spec.min_rounds``."""
    return await Session(teacher, tools, env, spec, **options).run()


def generate_sessions(store: Any, teacher: Any, tools: list[Tool], env: Environment, specs: list[SessionSpec], *,
                      run_id: str, **options: Any) -> dict[str, Any]:
    """Run the sessions of ``specs`` and store each record as it is made; resumable.

    A session is keyed by ``(run_id, its index in specs)`` (``meta.session``): sessions already
    stored for this run are skipped, so calling again after a crash or Ctrl-C goes on where it
    stopped. Returns counts per ending (``stored``, ``skipped`` and each ``ended`` reason).
    """
    import asyncio

    done = {int(i) for (i,) in store.con.execute(
        "SELECT CAST(meta->>'session' AS INTEGER) FROM records WHERE run_id = ? AND meta->>'mode' = 'session'",
        [run_id]).fetchall() if i is not None}
    counts: dict[str, Any] = {"stored": 0, "skipped": len(done & set(range(len(specs))))}
    for i, spec in enumerate(specs):
        if i in done:
            continue
        out = asyncio.run(run_session(teacher, tools, env, spec, **options))
        counts[out.ended] = counts.get(out.ended, 0) + 1
        if out.record is not None:
            d = out.record.to_dict()
            d.pop("id", None)
            d["meta"] = {**d["meta"], "session": i, "run_id": run_id}
            counts["stored"] += store.upsert_records([Record.model_validate(d)], source="generate", run_id=run_id)
    return counts

