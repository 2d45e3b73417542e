"""Stepwise generation: request first, then the assistant's calls, results from the environment, then the answer.

One job (see :class:`StepwiseGenerator.run_job`), each step its own teacher request:

1. **request**: the user's message alone, conditioned on the callable tools, the
   scenario, a persona, a task seed and a style (``_stepwise/request.j2``); refused
   and re-asked when it copies an example or holds prompt text;
2. distractors are drawn from the catalog tools the request does *not* need;
3. **calls**: the assistant's turn(s), within the scenario's bounds (parallel:
   two or more calls in one turn; sequential: one per turn, until the teacher
   says ``done`` or the upper bound), with the transcript so far;
4. **results** come from the :class:`~toolforge.environment.Environment`
   (mock, world state, safe tools run for real, or the tool simulator);
   error_recovery's first call is made to fail;
5. **answer**: the final reply from the transcript with the real results.

Every step is stored as an attempt row (outcome ``step``, reason = the step,
output = the step's JSON, results with their source), followed by the job's
``accepted``/``rejected`` row, in the same batch as the record: a resumed run
starts at the next job, as in one-shot mode.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from toolforge.backends.base import ChatRequest, ChatResponse, TransientError
from toolforge.environment import Environment, WorldState
from toolforge.generate.parse import PlanIssue
from toolforge.generate.plan import Job, pick_distractors
from toolforge.generate.retry import RetryPolicy, with_retries
from toolforge.generate.storage import Attempt
from toolforge.record import Tool

REASONING_HEAVY = (160, 600)
PLAN = (40, 600)
STEP_TRIES = 2  # teacher replies per step before the job attempt is given up
TRANSCRIPT_MAX = 4000
MIN_REQUEST_WORDS = 4  # SmolLM2 answers the request step with a bare name ("Trevor Trout") more often than not


class StepFailed(Exception):
    def __init__(self, code: str, message: str, *, transport: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transport = transport  # the teacher stayed unreachable: this job stops


@dataclass
class Turn:
    reasoning: str | None
    calls: list[dict[str, Any]]  # {"name", "arguments", "result", "source", "error"}


def transcript(user: str, turns: list[Turn]) -> str:
    lines = [f"User: {user}"]
    for t in turns:
        for c in t.calls:
            lines.append(f"Assistant calls {c['name']}({json.dumps(c['arguments'], ensure_ascii=False)})")
            what = "Error from" if c["error"] else "Result of"
            lines.append(f"{what} {c['name']}: {json.dumps(c['result'], ensure_ascii=False)}")
    text = "\n".join(lines)
    return text if len(text) <= TRANSCRIPT_MAX else text[:600] + "\n...\n" + text[-(TRANSCRIPT_MAX - 600):]


class StepwiseGenerator:
    """Runs stepwise jobs for a :class:`~toolforge.generate.runner.Runner` (which owns the schedule)."""

    def __init__(self, runner: Any, env: Environment, seeds: dict[str, Any],
                 returns: dict[str, dict[str, Any]]) -> None:
        self.r = runner
        self.env = env
        self.seeds = seeds
        self.returns = returns

    # -- one teacher request ------------------------------------------------------------------
    async def _ask(self, job: Job, attempt: int, out: list[Attempt], step: str, messages: list[dict[str, Any]],
                   schema: dict[str, Any], *, seed_offset: int, max_tokens: int | None = None) -> Any:
        from toolforge.generate.harden import has_control_chars
        from toolforge.generate.parse import load_json

        last = "no_reply"
        for k in range(STEP_TRIES):
            cfg = self.r.cfg
            temperature = min(1.5, cfg.temperature + 0.15 * k) if cfg.temperature > 0 else 0.0
            req = ChatRequest(messages=messages, response_schema=schema, temperature=temperature,
                              max_tokens=max_tokens or cfg.max_tokens,
                              seed=(job.seed + 7919 * attempt + 31 * seed_offset + k) & 0x7FFFFFFF)
            t0 = time.monotonic()
            resp = await self.r._ask(req, job, attempt, out)
            if isinstance(resp, TransientError):
                raise StepFailed(resp.code, resp.message, transport=True)
            assert isinstance(resp, ChatResponse)
            value, issues = load_json(resp.text)
            if not issues and has_control_chars(value):
                issues = [PlanIssue("control_char", "$", "the reply holds control characters")]
            if not issues:
                out.append(Attempt(job.scenario, job.index, attempt, "step", step, None, output=resp.text,
                                   latency_s=time.monotonic() - t0))
                return value
            last = issues[0].code
            out.append(Attempt(job.scenario, job.index, attempt, "step", step, f"{last}: {issues[0].message}"[:1000],
                               output=resp.text, latency_s=time.monotonic() - t0))
        raise StepFailed(last, f"no usable {step} reply after {STEP_TRIES} tries")

    # -- steps ------------------------------------------------------------------------------------
    async def request(self, job: Job, attempt: int, out: list[Attempt]) -> str:
        from toolforge.generate.prompts import render_step, tool_view
        from toolforge.generate.runner import normalise_request
        from toolforge.generate.schema import request_schema
        from toolforge.validate.provenance import copied_example, named_tool, prompt_leak

        messages = render_step("request", scenario=job.scenario, tools=[tool_view(t, self.returns) for t in job.callable],
                               persona=job.persona, topic=job.topic, style=job.style, recovery=job.recovery or "")
        for k in range(STEP_TRIES):
            value = await self._ask(job, attempt, out, "request", messages, request_schema(), seed_offset=100 + k,
                                    max_tokens=200)
            user = str(value.get("user", "")).strip() if isinstance(value, dict) else ""
            why = None
            if len(user) < 10 or len(user.split()) < MIN_REQUEST_WORDS:
                why = ("plan_shape", "the request is empty or too short (a name or a label is not a request)")
            elif (where := copied_example(user)) is not None:
                why = ("copied_example", f"the request copies {where}")
            elif (leak := prompt_leak(user)) is not None:
                why = ("prompt_leak", f"the request holds {leak}")
            elif (tool := named_tool(user, [t.name for t in job.callable + job.candidates])) is not None:
                why = ("request_names_tool", f"the request names the tool {tool}")
            elif normalise_request(user) in self.r.seen:
                why = ("near_duplicate", "the request repeats an earlier one in this run")
            if why is None:
                return user
            out[-1].detail = f"{why[0]}: {why[1]}"
        assert why is not None
        raise StepFailed(why[0], why[1])

    async def turn(self, job: Job, attempt: int, out: list[Attempt], user: str, turns: list[Turn], *,
                   tools: list[Tool], calls: tuple[int, int], phase: str = "", allow_done: bool = False,
                   reasoning: tuple[int, int] | None = None, parallel: bool = False) -> Turn | None:
        from toolforge.canonical import canonical_json
        from toolforge.generate.prompts import render_step, tool_view
        from toolforge.generate.schema import calls_schema
        from toolforge.validate.scenario import is_transient_error

        messages = render_step("calls", tools=[tool_view(t, self.returns) for t in tools],
                               transcript=transcript(user, turns), phase=phase, calls=list(calls), parallel=parallel,
                               step=len(turns), allow_done=allow_done, reasoning=reasoning is not None)
        schema = calls_schema(tools, calls, reasoning=reasoning, allow_done=allow_done)
        for k in range(STEP_TRIES):
            value = await self._ask(job, attempt, out, f"calls[{len(turns)}]", messages, schema,
                                    seed_offset=200 + 10 * len(turns) + k)
            if not isinstance(value, dict):
                continue
            if value.get("done") is True:
                return None
            raw = value.get("calls")
            if not isinstance(raw, list) or not raw:
                out[-1].detail = "plan_shape: no calls"
                continue
            keys = [canonical_json({"n": c.get("name"), "a": c.get("arguments")}) for c in raw if isinstance(c, dict)]
            prior = {canonical_json({"n": c["name"], "a": c["arguments"]}): c for t in turns for c in t.calls}
            before = [prior[key] for key in keys if key in prior]
            why = None
            if len(set(keys)) < len(keys):
                why = "duplicate_call", "the same call twice in one turn: make each call different or make one"
            elif any(not c["error"] for c in before):
                why = "repeated_call", "that call already succeeded: use its result instead of calling it again"
            elif any(not is_transient_error(json.dumps(c["result"], ensure_ascii=False)) for c in before):
                # the retry of error_recovery (Qwen2.5-Coder repeated the failed call unchanged in 3 of 4 tries)
                why = "retry_unchanged", "that call failed with exactly these arguments: change what the error points to"
            if why is not None:
                out[-1].detail = f"{why[0]}: {why[1]}"
                messages = [*messages, {"role": "assistant", "content": json.dumps(value, ensure_ascii=False)[:3000]},
                            {"role": "user", "content": f"Not accepted: {why[1]}. Reply again in the same JSON form."}]
                continue
            reasoning_text = value.get("reasoning") if isinstance(value.get("reasoning"), str) else None
            return Turn(reasoning_text, [{"name": c.get("name"), "arguments": c.get("arguments") or {}}
                                         for c in raw if isinstance(c, dict)])
        raise StepFailed("plan_shape", "no usable turn of calls")

    async def _env_call(self, job: Job, attempt: int, out: list[Attempt], call: dict[str, Any], world: WorldState, *,
                        force_error: bool, seed: int) -> Any:
        """One environment call; the simulator is the teacher, so its transient errors get the runner's retries."""
        res = await with_retries(
            lambda: self.env.call(call["name"], call["arguments"], world, force_error=force_error, seed=seed),
            RetryPolicy.of(self.r.cfg), self.r.rng, on_transient=self.r.transport_failed(job, attempt, out))
        if isinstance(res, TransientError):
            raise StepFailed(res.code, res.message, transport=True)
        return res

    async def results(self, job: Job, attempt: int, out: list[Attempt], world: WorldState, turn: Turn, *,
                      force_error: bool = False) -> None:
        for j, call in enumerate(turn.calls):
            t0 = time.monotonic()
            res = None
            for k in range(STEP_TRIES):
                res = await self._env_call(job, attempt, out, call, world, force_error=force_error,
                                           seed=(job.seed + 7919 * attempt + 977 * len(world.history) + j + k) & 0x7FFFFFFF)
                if res.result is not None:
                    break
            assert res is not None
            payload = {"call": {"name": call["name"], "arguments": call["arguments"]}, "source": res.source,
                       "error": res.error, "result": res.result}
            out.append(Attempt(job.scenario, job.index, attempt, "step", f"result:{res.source}",
                               None if res.result is not None else "simulator reply unusable",
                               output=json.dumps(payload, ensure_ascii=False), latency_s=time.monotonic() - t0))
            if res.result is None:
                raise StepFailed("environment", f"no usable result for {call['name']}")
            call.update(result=res.result, source=res.source, error=res.error)
            if res.error and not force_error and job.scenario != "error_recovery":
                # the call failed for real (e.g. calculate on an invalid expression): not this scenario's record
                raise StepFailed("tool_error", f"{call['name']} failed: {json.dumps(res.result, ensure_ascii=False)[:300]}")

    async def answer(self, job: Job, attempt: int, out: list[Attempt], user: str, turns: list[Turn], *,
                     failed_only: bool = False, reasoning: tuple[int, int] | None = None) -> tuple[str, str | None]:
        from toolforge.generate.prompts import render_step
        from toolforge.generate.schema import answer_schema

        messages = render_step("answer", transcript=transcript(user, turns), scenario=job.scenario,
                               failed_only=failed_only, reasoning=reasoning is not None)
        value = await self._ask(job, attempt, out, "answer", messages, answer_schema(reasoning=reasoning),
                                seed_offset=900)
        answer = str(value.get("answer", "")).strip() if isinstance(value, dict) else ""
        if not answer:
            raise StepFailed("plan_shape", "empty answer")
        r = value.get("reasoning") if isinstance(value, dict) else None
        return answer, (r.strip() if isinstance(r, str) and r.strip() else None)

    # -- a whole conversation ----------------------------------------------------------------------
    async def conversation(self, job: Job, attempt: int, out: list[Attempt]) -> list[dict[str, Any]]:
        user = await self.request(job, attempt, out)
        pick_distractors(job, user, self.seeds)
        world = WorldState()
        turns: list[Turn] = []
        s = job.scenario
        answer_reasoning = None
        failed_only = False
        if s == "error_recovery":
            target = job.callable[:1]
            t = await self.turn(job, attempt, out, user, turns, tools=target, calls=(1, 1), phase="failing")
            assert t is not None
            await self.results(job, attempt, out, world, t, force_error=True)
            turns.append(t)
            if job.recovery == "retry":
                t = await self.turn(job, attempt, out, user, turns, tools=target, calls=(1, 1), phase="retry")
                assert t is not None
                await self.results(job, attempt, out, world, t)
                turns.append(t)
            else:
                failed_only = True
        elif s != "no_tool_needed":
            (t_lo, t_hi), calls = job.turns, job.calls
            for i in range(t_hi):
                reasoning = None
                if i == 0 and s == "reasoning_heavy":
                    reasoning = REASONING_HEAVY
                elif i == 0 and s == "complex_multi_step":
                    reasoning = PLAN
                parallel = s in ("multi_tool_parallel", "reasoning_heavy")
                try:
                    t = await self.turn(job, attempt, out, user, turns, tools=job.callable, calls=calls,
                                        allow_done=i >= t_lo, reasoning=reasoning, parallel=parallel)
                except StepFailed as exc:
                    if exc.transport or i < t_lo:
                        raise
                    # an optional extra step with no usable new call (Qwen2.5-Coder repeated a read it had made):
                    # the request is served, so answer instead of giving up the conversation
                    t = None
                if t is None:
                    break
                await self.results(job, attempt, out, world, t)
                turns.append(t)
        else:
            answer_reasoning = None
        answer, final_reasoning = await self.answer(job, attempt, out, user, turns, failed_only=failed_only,
                                                    reasoning=answer_reasoning)
        return build_messages(job, user, turns, answer, final_reasoning)

    async def run_job(self, job: Job) -> Any:
        from toolforge.generate.parse import record_from_messages
        from toolforge.generate.plan import job_summary
        from toolforge.generate.runner import JobResult, normalise_request
        from toolforge.validate import generation_blockers, validate_record

        cfg = self.r.cfg
        out: list[Attempt] = []
        last = "no_reply"
        for attempt in range(1, cfg.max_attempts + 1):
            t0 = time.monotonic()
            try:
                messages = await self.conversation(job, attempt, out)
            except StepFailed as exc:
                last = exc.code
                out.append(Attempt(job.scenario, job.index, attempt, "rejected", exc.code, exc.message[:1000],
                                   latency_s=time.monotonic() - t0))
                if exc.transport:
                    break
                continue
            checked = validate_record({"scenario": job.scenario,
                                       "tools": [t.model_dump(exclude_none=True) for t in job.tools],
                                       "messages": messages}, check_grounding=self.r.cfg.resolved_meaning_checks,
                                      check_provenance=self.r.cfg.resolved_meaning_checks)
            issues: list[Any] = generation_blockers(checked)
            rec = None
            if not issues:
                sources = [json.loads(a.output or "{}").get("source") for a in out
                           if a.attempt == attempt and a.reason and a.reason.startswith("result:")]
                meta = {"teacher": self.r.teacher.name, "run_id": self.r.run_id, "prompt_sha": self.r._sha,
                        "attempt": attempt, "mode": "stepwise", "result_sources": sources, **job_summary(job)}
                rec, issues = record_from_messages(messages, job, meta)
            if rec is not None and not issues:
                key = normalise_request(rec.first_user_text)
                if key in self.r.seen:
                    issues = [PlanIssue("near_duplicate", "user", "this user request repeats an earlier one")]
                else:
                    self.r.seen.add(key)
                    out.append(Attempt(job.scenario, job.index, attempt, "accepted", record_id=rec.id,
                                       latency_s=time.monotonic() - t0))
                    return JobResult(job, rec, out, checked)
            last = issues[0].code
            detail = "; ".join(f"{i.path}: {i.message}" for i in issues[:5])
            out.append(Attempt(job.scenario, job.index, attempt, "rejected", last, detail[:1000],
                               output=json.dumps(messages, ensure_ascii=False), latency_s=time.monotonic() - t0))
        out.append(Attempt(job.scenario, job.index, cfg.max_attempts, "gave_up", last,
                           f"no valid record after {cfg.max_attempts} attempts"))
        return JobResult(job, None, out)


def build_messages(job: Job, user: str, turns: list[Turn], answer: str, reasoning: str | None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": job.system_prompt},
                                      {"role": "user", "content": user}]
    n = 0
    for t in turns:
        calls = []
        for c in t.calls:
            n += 1
            calls.append({"id": f"call_{n}", "type": "function",
                          "function": {"name": c["name"], "arguments": c["arguments"]}})
        msg: dict[str, Any] = {"role": "assistant", "content": "", "tool_calls": calls}
        if t.reasoning and t.reasoning.strip():
            msg["reasoning"] = t.reasoning.strip()
        messages.append(msg)
        for mc, c in zip(calls, t.calls, strict=True):
            content = c["result"] if isinstance(c["result"], str) else json.dumps(c["result"], ensure_ascii=False)
            messages.append({"role": "tool", "tool_call_id": mc["id"], "name": c["name"], "content": content})
    final: dict[str, Any] = {"role": "assistant", "content": answer}
    if reasoning:
        final["reasoning"] = reasoning
    messages.append(final)
    return messages
