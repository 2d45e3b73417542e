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

``toolforge generate --mode session`` (or ``--scenario multi_turn``) runs sessions
inside the generation :class:`~toolforge.generate.runner.Runner`: one job per
session (target key ``"session"``), its blueprint from :func:`make_session_job`,
played by :class:`RunnerSession` (the runner's retries, attempt rows per step),
written and resumed like every other mode (:class:`SessionGenerator`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from toolforge.backends.base import ChatRequest, TransientError
from toolforge.environment import Environment, ToolResult, WorldState
from toolforge.errors import BackendError
from toolforge.generate.retry import RetryPolicy, with_retries
from toolforge.record import Record, Tool
from toolforge.validate.issues import Issue

log = logging.getLogger(__name__)

MIN_ROUNDS, MAX_ROUNDS = 3, 20

USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"message": {"type": "string", "maxLength": 400}, "goal_met": {"type": "boolean"},
                   "abandon": {"type": "boolean"}},
    "required": ["message", "goal_met", "abandon"], "additionalProperties": False,
}
MAX_CALLS = 4  # calls in one assistant step
ANSWER_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"answer": {"type": "string", "minLength": 10,
                                                                            "maxLength": 1000}},
                                 "required": ["answer"], "additionalProperties": False}


def assistant_schema(tools: list[Tool]) -> dict[str, Any]:
    """Calls to the offered tools (names as consts, arguments per tool, tightened like stepwise's calls
    step) or an answer; hardened for every grammar dialect (llama.cpp's parser refuses, and crashes on,
    the raw bounds of long strings)."""
    from toolforge.generate.harden import harden_schema
    from toolforge.generate.schema import ANSWER_MAX, any_call

    calls = {"type": "object", "properties": {"calls": {"type": "array", "items": any_call(tools, None),
                                                        "minItems": 1, "maxItems": MAX_CALLS}},
             "required": ["calls"], "additionalProperties": False}
    answer = {"type": "object", "properties": {"answer": {"type": "string", "minLength": 10, "maxLength": ANSWER_MAX}},
              "required": ["answer"], "additionalProperties": False}
    return harden_schema({"anyOf": [calls, answer]})  # type: ignore[no-any-return]


class NoResult(Exception):
    """The environment could not answer a call (the simulator's replies were unusable)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


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
                 max_attempts: int = 3, temperature: float = 0.7, max_tokens: int = 1024, root: str | None = None,
                 check_grounding: bool = True, check_provenance: bool = True, retry: RetryPolicy | None = None) -> None:
        import random

        self.teacher, self.tools, self.env, self.spec = teacher, tools, env, spec
        self.retry = retry or RetryPolicy.default()  # transient teacher/simulator failures, as the runner retries them
        self._rng = random.Random(spec.seed ^ 0x5EED)  # the backoff's jitter
        self._attempts: list[dict[str, Any]] = []  # the running session's SessionResult.attempts
        self.max_steps, self.max_attempts, self.temperature, self.root = max_steps, max_attempts, temperature, root
        self.max_tokens = max_tokens
        self.checks = {"check_grounding": check_grounding, "check_provenance": check_provenance}
        self.round = 0  # the round being played (0-based)
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
        self.world = WorldState()
        self.sources: list[str] = []  # where each tool message's result came from, in order (as stepwise)
        self._n_calls = 0
        self._tool_dicts = [t.model_dump(exclude_none=True) for t in tools]
        self._schema = assistant_schema(tools)
        self.meta_extra: dict[str, Any] = {}

    # -- the three ways out (overridden by RunnerSession: the runner's retries and attempt rows) ------
    async def _ask(self, messages: list[dict[str, Any]], schema: dict[str, Any], seed: int, step: str) -> str:
        req = ChatRequest(messages=messages, response_schema=schema, temperature=self.temperature,
                          max_tokens=self.max_tokens, seed=seed & 0x7FFFFFFF)
        resp = await self._retried(lambda: self.teacher.chat(req), step)
        return str(resp.text or "")

    async def _call(self, name: str, args: dict[str, Any], seed: int) -> ToolResult:
        # the simulator is a teacher too
        return await self._retried(lambda: self.env.call(name, args, self.world, seed=seed), f"result:{name}")

    async def _retried(self, call: Any, step: str) -> Any:
        """``await call()`` with the retry policy; each transient failure is logged and kept as an attempt,
        and spent retries raise a BackendError (the sessions stored so far stay)."""
        def failed(exc: TransientError, latency: float) -> None:
            log.warning("session %s, round %d, %s: transient failure %s (%s)", self.spec.seed, self.round + 1,
                        step, exc.code, exc.message[:200])
            self._attempts.append({"role": step, "round": self.round, "outcome": "transport", "reason": exc.code})

        res = await with_retries(call, self.retry, self._rng, on_transient=failed)
        if isinstance(res, TransientError):
            raise BackendError(f"the teacher failed {self.retry.max_retries + 1} times in a row ({res.code}: "
                               f"{res.message[:300]})", hint="try again later: generate_sessions skips the sessions "
                               "already stored for this run_id")
        return res

    def _judged(self, rnd: int, attempt: int, issues: list[Issue], messages: list[dict[str, Any]]) -> None:
        """One assistant attempt at round ``rnd`` validated: accepted when ``issues`` is empty."""

    async def _user_turn(self, rnd: int, out: SessionResult) -> str | None:
        """The user's next message, or None when the simulator ends the session (``out.ended`` says why)."""
        prompt = _render("user", self.root, persona=self.spec.persona, goal=self.spec.goal, round=rnd,
                         min_rounds=self.spec.min_rounds, transcript=_transcript(self.messages))
        for attempt in range(self.max_attempts):
            text = await self._ask(prompt, USER_SCHEMA, self.spec.seed * 1000 + rnd * 10 + attempt, "user")
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
        from toolforge.canonical import canonical_json
        from toolforge.generate.prompts import render_reask, tool_view

        views = [tool_view(t) for t in self.tools]
        added: list[dict[str, Any]] = []
        made: set[str] = set()  # the calls of this round so far
        final = False
        for step in range(self.max_steps + 1):
            # the last step, or one after a step that only repeated earlier calls, may only answer
            final = final or step == self.max_steps
            prompt = _render("assistant", self.root, tools=views, transcript=_transcript(self.messages + added),
                             step=step, final=final)
            if reask:
                prompt.append({"role": "user", "content": render_reask(reask, root=self.root)})
            text = await self._ask(prompt, ANSWER_SCHEMA if final else self._schema,
                                   self.spec.seed * 1000 + rnd * 10 + step, f"assistant[{step}]")
            value = _loads(text) or {}
            raw: list[Any] = value["calls"] if isinstance(value.get("calls"), list) else []
            calls = [c for c in raw if isinstance(c, dict) and isinstance(c.get("name"), str)
                     and isinstance(c.get("arguments", {}), dict)]
            keys = {canonical_json({"n": c["name"], "a": c.get("arguments", {})}) for c in calls}
            if calls and not final and keys <= made:
                final = True  # nothing new to call: the results are in, answer from them
                continue
            made |= keys
            if calls and not final:
                msg: dict[str, Any] = {"role": "assistant", "content": "", "tool_calls": []}
                results = []
                for c in calls:
                    self._n_calls += 1
                    cid = f"call_{self._n_calls}"
                    args = c.get("arguments", {})
                    msg["tool_calls"].append({"id": cid, "type": "function",
                                              "function": {"name": c["name"], "arguments": args}})
                    res = await self._call(c["name"], args, self.spec.seed + self._n_calls)
                    if res.result is None:  # never a made-up result: this try of the round fails
                        raise NoResult(c["name"])
                    self.sources.append(res.source)
                    results.append({"role": "tool", "tool_call_id": cid, "name": c["name"],
                                    "content": json.dumps(res.result, ensure_ascii=False)})
                added += [msg, *results]
                continue
            answer = value.get("answer")
            added.append({"role": "assistant", "content": answer if isinstance(answer, str) else ""})
            break
        return added

    async def run(self) -> SessionResult:
        from toolforge.validate import generation_blockers, validate_record

        out = SessionResult(None, 0, "max_rounds")
        self._attempts = out.attempts
        for rnd in range(self.spec.max_rounds):
            self.round = rnd
            user = await self._user_turn(rnd, out)
            if user is None:
                break
            base = [*self.messages, {"role": "user", "content": user}]
            reask: list[Issue] | None = None
            for attempt in range(self.max_attempts):
                saved_world, saved_calls, saved_sources = self.world, self._n_calls, list(self.sources)
                self.world = WorldState(files=dict(saved_world.files), ids=dict(saved_world.ids),
                                        history=list(saved_world.history))
                self.messages = base
                try:
                    added = await self._assistant_turn(rnd, reask)
                    # the same accept rule as the other modes: errors, and the warnings generation refuses
                    issues = generation_blockers(validate_record({"tools": self._tool_dicts,
                                                                  "messages": base + added}, **self.checks))
                except NoResult as exc:
                    added, issues = [], [Issue("environment", "$", f"the tool environment gave no usable result "
                                               f"for {exc.name}: call it again or differently")]
                out.attempts.append({"role": "assistant", "round": rnd, "attempt": attempt + 1,
                                     "outcome": "accepted" if not issues else "rejected",
                                     "reason": issues[0].code if issues else None})
                self._judged(rnd, attempt + 1, issues, base + added)
                if not issues:
                    self.messages = base + added
                    break
                self.world, self._n_calls, self.sources = saved_world, saved_calls, saved_sources  # a rejected try leaves nothing
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
                "result_sources": list(self.sources), **self.meta_extra}
        try:
            out.record = Record.model_validate({"tools": self._tool_dicts, "messages": self.messages, "meta": meta})
        except ValueError as exc:  # pydantic's ValidationError, the JSON size limits: no record, never a crash
            out.ended = "record_invalid"
            out.attempts.append({"role": "record", "round": out.rounds, "outcome": "invalid",
                                 "reason": str(exc).splitlines()[0][:300]})
        return out


async def run_session(teacher: Any, tools: list[Tool], env: Environment, spec: SessionSpec, **options: Any) -> SessionResult:
    """Run one session (see the module doc); the record is None when it did not reach ``spec.min_rounds``."""
    return await Session(teacher, tools, env, spec, **options).run()


def generate_sessions(store: Any, teacher: Any, tools: list[Tool], env: Environment, specs: list[SessionSpec], *,
                      run_id: str, **options: Any) -> dict[str, Any]:
    """Run the sessions of ``specs`` (given blueprints) and store each record as it is made; resumable.

    The simple library path: one session at a time. Transient teacher and simulator failures are
    retried as the runner retries them (:mod:`toolforge.generate.retry`; ``retry=RetryPolicy(...)``
    sets the numbers, default ``GenerateConfig``'s); once a request's retries are spent, or on a
    failure no retry can fix (``FatalBackendError``), the error is raised and the sessions stored
    so far stay stored. ``toolforge generate --mode session`` (``runner.generate`` with
    ``GenerateConfig(mode="session")``) runs sessions from seeded blueprints through the runner
    instead: concurrency, batched writes with attempt rows, ``--resume``.

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



# -- sessions inside a generation run (``toolforge generate --mode session``) ------------------------
class RunnerSession(Session):
    """A session played inside a :class:`~toolforge.generate.runner.Runner` job.

    Every teacher request goes through the runner's ``_ask`` (transport failures retried with
    backoff, honouring ``Retry-After``), every tool call through the stepwise generator's
    environment call (the same retries: the simulator is the teacher), and every step is an
    attempt row: ``scenario`` = ``"session"``, ``job`` = the session's index, ``attempt`` = the
    round (1-based), ``outcome`` = ``step`` with ``reason`` ``user``, ``assistant[k]`` or
    ``result:SOURCE`` (the call, its source and result as output), ``rejected`` for a round whose
    validation failed (re-asked), then one ``accepted`` or ``gave_up`` row for the session.
    """

    def __init__(self, gen: SessionGenerator, job: Any, out: list[Any], spec: SessionSpec, **options: Any) -> None:
        super().__init__(gen.r.teacher, job.tools, gen.env, spec, **options)
        self.gen, self.job, self.out = gen, job, out

    async def _ask(self, messages: list[dict[str, Any]], schema: dict[str, Any], seed: int, step: str) -> str:
        import time

        from toolforge.backends.base import TransientError
        from toolforge.generate.stepwise import StepFailed
        from toolforge.generate.storage import Attempt

        req = ChatRequest(messages=messages, response_schema=schema, temperature=self.temperature,
                          max_tokens=self.max_tokens, seed=seed & 0x7FFFFFFF)
        t0 = time.monotonic()
        resp = await self.gen.r._ask(req, self.job, self.round + 1, self.out)
        if isinstance(resp, TransientError):
            raise StepFailed(resp.code, resp.message, transport=True)
        text = str(resp.text or "")
        self.out.append(Attempt(self.job.scenario, self.job.index, self.round + 1, "step", step,
                                None if _loads(text) is not None else "unreadable: not a JSON object",
                                output=text, latency_s=time.monotonic() - t0))
        return text

    async def _call(self, name: str, args: dict[str, Any], seed: int) -> ToolResult:
        import time

        from toolforge.generate.stepwise import STEP_TRIES
        from toolforge.generate.storage import Attempt

        t0 = time.monotonic()
        for k in range(STEP_TRIES):  # an unusable simulator reply is asked again, as in stepwise
            res: ToolResult = await self.gen.steps._env_call(self.job, self.round + 1, self.out,
                                                             {"name": name, "arguments": args}, self.world,
                                                             force_error=False, seed=(seed + 7919 * k) & 0x7FFFFFFF)
            if res.result is not None:
                break
        payload = {"call": {"name": name, "arguments": args}, "source": res.source, "error": res.error,
                   "result": res.result}
        self.out.append(Attempt(self.job.scenario, self.job.index, self.round + 1, "step", f"result:{res.source}",
                                None if res.result is not None else "no usable result",
                                output=json.dumps(payload, ensure_ascii=False), latency_s=time.monotonic() - t0))
        return res

    def _judged(self, rnd: int, attempt: int, issues: list[Issue], messages: list[dict[str, Any]]) -> None:
        from toolforge.generate.storage import Attempt

        if issues:
            detail = f"round {rnd + 1}, attempt {attempt}: " + "; ".join(f"{i.path}: {i.message}" for i in issues[:5])
            self.out.append(Attempt(self.job.scenario, self.job.index, rnd + 1, "rejected", issues[0].code,
                                    detail[:1000], output=json.dumps(messages[-6:], ensure_ascii=False)))


def make_session_job(index: int, run_seed: int, catalog: list[Tool], seeds: dict[str, Any],
                     tool_weights: dict[str, float] | None = None) -> Any:
    """The blueprint of session ``index`` (APIGen-MT's first step), fully determined by the run seed:
    2 to 4 offered tools, a goal made of the tasks of 2 or 3 of them (so that it takes several rounds),
    a persona, a user style and a system prompt from the seed pools (``--seeds`` merges the user's own)."""
    import random

    from toolforge.generate.config import SESSION
    from toolforge.generate.plan import Job, job_seed, weighted_order
    from toolforge.generate.seeds import tool_tasks

    seed = job_seed(run_seed, SESSION, index)
    rng = random.Random(seed)
    pool = weighted_order(list(catalog), tool_weights, rng) if tool_weights else rng.sample(catalog, len(catalog))
    offered = pool[:min(len(pool), rng.randint(2, 4))]
    used = offered[:min(len(offered), rng.randint(2, 3))]
    goal = "; then ".join(rng.choice(tool_tasks(t, seeds)) for t in used)
    return Job(scenario=SESSION, index=index, seed=seed, callable=used, distractors=offered[len(used):],
               tools=offered, persona=rng.choice(seeds["personas"]), style=rng.choice(seeds["user_styles"]),
               topic=goal, system_prompt=rng.choice(seeds["system_prompts"]))


class SessionGenerator:
    """Runs session jobs for a :class:`~toolforge.generate.runner.Runner` (which owns the schedule,
    the writes and resuming: a session is one job of the target ``"session"``)."""

    def __init__(self, runner: Any, env: Environment, seeds: dict[str, Any], returns: dict[str, dict[str, Any]]) -> None:
        from toolforge.generate.stepwise import StepwiseGenerator

        self.r = runner
        self.env = env
        self.seeds = seeds
        self.steps = StepwiseGenerator(runner, env, seeds, returns)  # its environment call, with the runner's retries

    def make_job(self, index: int) -> Any:
        return make_session_job(index, self.r.seed, self.r.tools, self.seeds, self.r.cfg.tool_weights)

    async def run_job(self, job: Any) -> Any:
        from toolforge.generate.plan import job_summary
        from toolforge.generate.runner import JobResult, normalise_request
        from toolforge.generate.stepwise import StepFailed
        from toolforge.generate.storage import Attempt
        from toolforge.validate import validate_record

        cfg = self.r.cfg
        spec = SessionSpec(persona=job.persona, goal=job.topic, min_rounds=cfg.min_rounds, max_rounds=cfg.max_rounds,
                           seed=job.seed)
        out: list[Attempt] = []
        session = RunnerSession(self, job, out, spec, system_prompt=job.system_prompt, max_attempts=cfg.max_attempts,
                                temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                                check_grounding=cfg.resolved_meaning_checks,
                                check_provenance=cfg.resolved_meaning_checks)
        session.meta_extra = {"run_id": self.r.run_id, "prompt_sha": self.r._sha, "session": job.index,
                              **job_summary(job)}
        try:
            res = await session.run()
        except StepFailed as exc:
            out.append(Attempt(job.scenario, job.index, session.round + 1, "gave_up", exc.code, exc.message[:1000]))
            return JobResult(job, None, out)
        rec = res.record
        if rec is None:
            why = "; ".join(f"{i.path}: {i.message}" for i in res.issues[:5])
            out.append(Attempt(job.scenario, job.index, session.round + 1, "gave_up", f"session_{res.ended}",
                               f"{res.rounds} rounds (min {spec.min_rounds}), ended: {res.ended}. {why}"[:1000]))
            return JobResult(job, None, out)
        key = normalise_request(rec.first_user_text)
        if key in self.r.seen:
            out.append(Attempt(job.scenario, job.index, res.rounds, "gave_up", "near_duplicate",
                               "the session opens with the same request as an earlier one"))
            return JobResult(job, None, out)
        self.r.seen.add(key)
        checked = validate_record(rec, check_grounding=cfg.resolved_meaning_checks,
                                  check_provenance=cfg.resolved_meaning_checks)
        out.append(Attempt(job.scenario, job.index, res.rounds, "accepted", record_id=rec.id))
        return JobResult(job, rec, out, checked)
