"""The generation runner: async, bounded concurrency, retries, re-asks, batched resumable writes.

:func:`generate` is the library entry point behind ``toolforge generate``::

    summary = generate("store.duckdb", GenerateConfig(targets={"single_tool": 100}, teacher="fake:"))

Order of work: check every input (scenarios, catalogs, teacher spec, API key,
that the server answers) *before* the store is opened, so bad input never
changes it. Then a run is created (or resumed: ``resume=RUN_ID``, or an existing
``run_name``), and jobs are scheduled so that accepted + in-flight never exceeds
the target: the run ends with exactly the target count, whatever fails.

Each job: render the prompt, ask the teacher (transport failures retried with
exponential backoff and jitter, honouring ``Retry-After``), parse the plan into
a record, validate it (``toolforge.validate``), reject near-duplicate user
requests, and re-ask with the issues up to ``max_attempts``. Every outcome is an
attempt row (see :mod:`toolforge.generate.storage`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolforge.backends import load_teacher
from toolforge.backends.base import ChatRequest, FatalBackendError, Teacher, TransientError
from toolforge.errors import BackendError, ToolforgeError, UsageError
from toolforge.generate.config import SESSION, GenerateConfig
from toolforge.generate.parse import PlanIssue, load_json, plan_messages, record_from_messages
from toolforge.generate.plan import Job, job_summary, make_job
from toolforge.generate.prompts import examples, prompts_sha, render_messages, render_reask
from toolforge.generate.retry import RetryPolicy, with_retries
from toolforge.generate.schema import plan_schema
from toolforge.generate.storage import (
    Attempt,
    FlushResult,
    RunWriter,
    next_jobs,
    run_counts,
    run_user_texts,
)
from toolforge.record import Record, Tool

log = logging.getLogger(__name__)
_NORM = re.compile(r"[^0-9a-z]+")


def normalise_request(text: str) -> str:
    """The cheap near-duplicate key of a user request (case, punctuation and spacing folded)."""
    return _NORM.sub(" ", text.lower()).strip()


@dataclass
class Progress:
    target: int
    accepted: int = 0
    rejected: int = 0
    transport: int = 0
    gave_up: int = 0
    run_id: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        dt = time.monotonic() - self.started
        return self.accepted / dt if dt > 0 else 0.0


@dataclass
class RunSummary:
    run_id: str
    targets: dict[str, int]
    stored: dict[str, int]
    new_this_session: int
    failures: dict[str, int]
    seconds: float
    status: str

    @property
    def rate(self) -> float:
        return self.new_this_session / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status, "targets": self.targets, "stored": self.stored,
                "new": self.new_this_session, "failures": self.failures, "seconds": round(self.seconds, 3),
                "records_per_s": round(self.rate, 2)}


@dataclass
class JobResult:
    job: Job
    record: Record | None
    attempts: list[Attempt]
    issues: list[Any] | None = None  # the accepted record's validation (warnings only), stored with it


class Runner:
    def __init__(self, cfg: GenerateConfig, teacher: Teacher, tools: list[Tool], *, run_id: str, seed: int,
                 seen: set[str] | None = None, on_progress: Callable[[Progress], None] | None = None,
                 returns: dict[str, dict[str, Any]] | None = None, env: Any = None) -> None:
        self.cfg = cfg
        self.teacher = teacher
        self.tools = tools
        self.run_id = run_id
        self.seed = seed
        self.seen: set[str] = seen or set()
        self.on_progress = on_progress
        self.rng = random.Random(seed ^ 0x5EED)
        self._schemas: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._tool_dicts: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._n_examples = {s: len(examples(s)) for s in cfg.targets if s != SESSION}
        self._sha = prompts_sha()
        from toolforge.generate.seeds import load_seeds

        self.seeds = load_seeds(cfg.seeds)
        self.returns = returns or {}
        self.stepwise: Any = None
        self.session: Any = None
        if cfg.resolved_mode == "session":  # multi-turn sessions: one job per session (toolforge.generate.session)
            from toolforge.environment import Environment
            from toolforge.generate.session import SessionGenerator

            env = env or Environment(tools, returns=self.returns, simulator=teacher, run_safe=cfg.run_safe_tools)
            self.session = SessionGenerator(self, env, self.seeds, self.returns)
        elif cfg.resolved_mode == "stepwise":
            from toolforge.environment import Environment
            from toolforge.generate.stepwise import StepwiseGenerator

            env = env or Environment(tools, returns=self.returns, simulator=teacher, run_safe=cfg.run_safe_tools)
            self.stepwise = StepwiseGenerator(self, env, self.seeds, self.returns)

    # -- one job ----------------------------------------------------------------------------
    def tool_dicts(self, job: Job) -> list[dict[str, Any]]:
        key = tuple(t.function.name for t in job.tools)
        hit = self._tool_dicts.get(key)
        if hit is None:
            hit = self._tool_dicts[key] = [t.model_dump(exclude_none=True) for t in job.tools]
        return hit

    def schema_for(self, job: Job) -> dict[str, Any]:
        key = (job.scenario, tuple(t.function.name for t in job.callable), job.turns, job.calls, job.recovery)
        s = self._schemas.get(key)
        if s is None:
            s = self._schemas[key] = plan_schema(job.scenario, job.callable, turns=job.turns, calls=job.calls,
                                                 recovery=job.recovery, returns=self.returns)
        return s

    def transport_failed(self, job: Job, attempt: int, out: list[Attempt]) -> Callable[[TransientError, float], None]:
        """``with_retries``' ``on_transient`` for a job: each transient failure is a ``transport`` attempt row."""

        def failed(exc: TransientError, latency: float) -> None:
            out.append(Attempt(job.scenario, job.index, attempt, "transport", exc.code, exc.message[:500],
                               latency_s=latency))

        return failed

    async def _ask(self, req: ChatRequest, job: Job, attempt: int, out: list[Attempt]) -> Any:
        """The teacher's reply, or the last ``TransientError`` once the retries are spent."""
        return await with_retries(lambda: self.teacher.chat(req), RetryPolicy.of(self.cfg), self.rng,
                                  on_transient=self.transport_failed(job, attempt, out))

    async def run_job(self, job: Job) -> JobResult:
        from toolforge.validate import generation_blockers, validate_record

        if self.session is not None:
            return await self.session.run_job(job)  # type: ignore[no-any-return]
        if self.stepwise is not None:
            return await self.stepwise.run_job(job)  # type: ignore[no-any-return]
        cfg = self.cfg
        messages = render_messages(job, returns=self.returns)
        schema = self.schema_for(job)
        out: list[Attempt] = []
        last_reason = "no_reply"
        first = messages
        replies: set[str] = set()
        reasks: list[str] = []
        for attempt in range(1, cfg.max_attempts + 1):
            # each re-ask samples a little hotter, so that a teacher stuck on one reply moves on
            temperature = min(1.5, cfg.temperature + 0.15 * (attempt - 1)) if cfg.temperature > 0 else 0.0
            req = ChatRequest(messages=messages, response_schema=schema, temperature=temperature,
                              max_tokens=cfg.max_tokens, seed=(job.seed + attempt - 1) & 0x7FFFFFFF)
            t0 = time.monotonic()
            resp = await self._ask(req, job, attempt, out)
            if isinstance(resp, TransientError):
                last_reason = resp.code
                break
            latency = time.monotonic() - t0
            text = resp.text
            plan, plan_issues = load_json(text)
            issues: list[Any] = list(plan_issues)
            rec: Record | None = None
            messages_out: list[dict[str, Any]] | None = None
            if not issues:
                issues = oneshot_checks(plan, job, self.seeds, reasks)
            if not issues:
                messages_out, issues = plan_messages(plan, job)
            if messages_out is not None and not issues:
                # validate the plain form (no model round trip), then build the record once
                checked = validate_record({"scenario": job.scenario, "tools": self.tool_dicts(job),
                                           "messages": messages_out}, check_grounding=self.cfg.resolved_meaning_checks,
                                          check_provenance=self.cfg.resolved_meaning_checks)
                issues = generation_blockers(checked)
            if messages_out is not None and not issues:
                meta = {"teacher": self.teacher.name, "run_id": self.run_id, "prompt_sha": self._sha,
                        "attempt": attempt, "mode": "oneshot", **job_summary(job)}
                rec, issues = record_from_messages(messages_out, job, meta)
            if rec is not None and not issues:
                key = normalise_request(rec.first_user_text)
                if key in self.seen:
                    issues = [PlanIssue("near_duplicate", "user", "this user request repeats an earlier one in "
                                        "this run: write a different request")]
                else:
                    self.seen.add(key)
                    out.append(Attempt(job.scenario, job.index, attempt, "accepted", record_id=rec.id,
                                       latency_s=latency))
                    return JobResult(job, rec, out, checked)
            last_reason = issues[0].code
            detail = "; ".join(f"{i.path}: {i.message}" for i in issues[:5])
            if resp.finish_reason == "length" and last_reason == "json_invalid":
                detail = "the reply hit max_tokens; " + detail
            out.append(Attempt(job.scenario, job.index, attempt, "rejected", last_reason, detail[:1000],
                               output=text, latency_s=latency))
            if last_reason == "near_duplicate":  # showing the repeated reply again only invites another copy
                continue
            if text.strip() in replies:
                # the re-ask brought back the same reply (Qwen2.5-Coder copied its reply from the context in
                # most re-asks): ask afresh, without the history it copies from
                messages = first
                continue
            replies.add(text.strip())
            reasks.append(render_reask(issues))
            messages = [*messages, {"role": "assistant", "content": text[:6000]},
                        {"role": "user", "content": reasks[-1]}]
        out.append(Attempt(job.scenario, job.index, cfg.max_attempts, "gave_up", last_reason,
                           f"no valid record after {cfg.max_attempts} attempts"))
        return JobResult(job, None, out)

    # -- the schedule -----------------------------------------------------------------------
    async def run(self, writer: RunWriter, committed: dict[str, int], first_job: dict[str, int],
                  progress: Progress) -> None:
        cfg = self.cfg
        targets = cfg.targets
        pending = dict.fromkeys(targets, 0)    # accepted, waiting in the write buffer
        inflight = dict.fromkeys(targets, 0)
        next_job = {s: first_job.get(s, 0) for s in targets}
        max_failed = cfg.max_failed_jobs if cfg.max_failed_jobs is not None else max(20, 3 * cfg.total)
        tasks: dict[asyncio.Task[JobResult], str] = {}
        concurrency = min(cfg.concurrency, getattr(self.teacher, "max_concurrency", None) or cfg.concurrency)
        order = list(targets)
        last_flush = time.monotonic()
        turn = 0

        def need(s: str) -> int:
            return targets[s] - committed.get(s, 0) - pending[s] - inflight[s]

        # Batches are written by one worker thread (DuckDB works outside the GIL) while jobs go on;
        # at most one write is in flight, and every exit path waits for it.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolforge-write")
        writing: Future[FlushResult] | None = None

        def start_write() -> None:
            nonlocal writing, last_flush
            batch = writer.take()
            if batch[0] or batch[1]:
                writing = pool.submit(writer.write, batch)
            last_flush = time.monotonic()

        def finish_write() -> None:
            nonlocal writing
            if writing is not None:
                fut, writing = writing, None
                apply(fut.result())

        async def await_write() -> None:
            if writing is not None:
                await asyncio.wrap_future(writing)
                finish_write()

        def flush() -> None:
            finish_write()
            apply(writer.flush())

        def apply(res: FlushResult) -> None:
            nonlocal last_flush
            for s, n in res.stored.items():
                committed[s] = committed.get(s, 0) + n
                pending[s] -= n
            for s, n in res.duplicates.items():
                pending[s] -= n
                progress.accepted -= n
                progress.rejected += n
            last_flush = time.monotonic()

        try:
            while True:
                while len(tasks) < concurrency:
                    wanting = [s for s in order if need(s) > 0]
                    if not wanting:
                        break
                    s = wanting[turn % len(wanting)]
                    turn += 1
                    if self.session is not None:
                        job = self.session.make_job(next_job[s])
                    else:
                        job = make_job(s, next_job[s], self.seed, self.tools, self._n_examples[s], self.seeds,
                                       self.cfg.tool_weights)
                    next_job[s] += 1
                    inflight[s] += 1
                    tasks[asyncio.ensure_future(self.run_job(job))] = s
                if not tasks:
                    await await_write()
                    flush()
                    if all(need(s) <= 0 for s in order):
                        return
                    continue
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    s = tasks.pop(task)
                    inflight[s] -= 1
                    result = task.result()  # FatalBackendError propagates
                    writer.add(result.attempts, result.record, result.issues)
                    for a in result.attempts:
                        if a.outcome == "rejected":
                            progress.rejected += 1
                        elif a.outcome == "transport":
                            progress.transport += 1
                    if result.record is not None:
                        pending[s] += 1
                        progress.accepted += 1
                    else:
                        progress.gave_up += 1
                if writing is not None and writing.done():
                    finish_write()
                if writing is None and (len(writer) >= cfg.flush_every
                                        or time.monotonic() - last_flush >= cfg.flush_seconds):
                    start_write()
                if self.on_progress is not None:
                    self.on_progress(progress)
                if progress.gave_up > max_failed:
                    raise BackendError(f"{progress.gave_up} jobs produced no valid record; stopping",
                                       hint="see the reasons with `toolforge generate --resume RUN_ID` after fixing "
                                            "the teacher, or query the generation_attempts table")
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            flush()  # waits for a write in flight, then writes the rest
            pool.shutdown(wait=True)


REASK_RUN = 6  # words in a row of a re-ask this job was shown that make a request a copy of it


def oneshot_checks(plan: Any, job: Job, seeds: dict[str, Any], reasks: list[str] | None = None) -> list[PlanIssue]:
    """Checks of a one-shot plan that the grammar cannot make: control characters, a request that holds
    the re-ask this job was shown (Qwen2.5-Coder answered "Write a request that the callable tools serve."
    as the user's message), and a request that needs a distractor (distractors are drawn before the
    request in this mode, so check after)."""
    from toolforge.generate.harden import has_control_chars
    from toolforge.generate.seeds import request_needs
    from toolforge.validate.provenance import shingles, words

    if has_control_chars(plan):
        return [PlanIssue("control_char", "$", "the reply holds control characters: write plain text")]
    user = plan.get("user") if isinstance(plan, dict) else None
    if isinstance(user, str) and reasks:
        mine = shingles(words(user), REASK_RUN)
        if any(mine & shingles(words(text), REASK_RUN) for text in reasks):
            return [PlanIssue("prompt_leak", "user", "the request repeats the instructions of the re-ask: write what "
                              "the user would say")]
    if isinstance(user, str):
        needed = [t.function.name for t in job.distractors if request_needs(user, t, seeds)]
        if needed:
            return [PlanIssue("distractor_needed", "user", f"the request needs {', '.join(needed)}, which is offered "
                              "only as a distractor here: write a request that the callable tools serve")]
    return []


# -- entry point -------------------------------------------------------------------------------
def _load_tools(catalogs: list[str]) -> list[Tool]:
    from toolforge.catalog import load_catalogs

    tools = load_catalogs(list(catalogs))
    if not tools:
        raise UsageError("the tool catalog is empty", hint="give a catalog with at least one tool")
    return tools


def _teacher(cfg: GenerateConfig) -> Teacher:
    from pydantic import ValidationError

    try:
        if cfg.teachers:  # a fleet: several endpoints of one teacher, one run
            from toolforge.backends.fleet import load_fleet

            return load_fleet(cfg.teachers, **cfg.teacher_options)
        return load_teacher(cfg.teacher, **cfg.teacher_options)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"teacher option {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def _resolve_run(db: Path, cfg: GenerateConfig, resume: str | None) -> tuple[GenerateConfig, str | None]:
    """For a resume (by id or by an existing run name): the config to use and the run id."""
    from toolforge.store import open_store

    if resume is None and (cfg.run_name is None or not Path(db).exists()):
        return cfg, None
    with open_store(db, read_only=True) as store:
        run = store.get_run(resume) if resume else store.find_run_by_name("generate", cfg.run_name or "")
    if run is None:
        if resume:
            raise UsageError(f"no generation run {resume!r} in {db}", hint="run ids are printed by `toolforge generate --json` and kept in the store's runs table")
        return cfg, None
    if run["kind"] != "generate":
        raise UsageError(f"run {run['id']} is a {run['kind']} run, not a generation run")
    import json

    stored = GenerateConfig.model_validate(json.loads(run["config"]))
    if resume:
        return stored, run["id"]
    merged = cfg.model_copy(update={"seed": cfg.seed if cfg.seed is not None else stored.seed})
    return merged, run["id"]


def generate(db: str | Path, cfg: GenerateConfig, *, resume: str | None = None,
             on_progress: Callable[[Progress], None] | None = None, teacher: Teacher | None = None) -> RunSummary:
    """Fill the store at ``db`` with the target counts of accepted records (see module doc)."""
    db = Path(db)
    cfg, run_id = _resolve_run(db, cfg, resume)
    tools = _load_tools(cfg.catalogs)
    from toolforge.generate.seeds import load_seeds

    load_seeds(cfg.seeds)  # a bad seed file or mock module is an error before anything is stored
    if cfg.mock:
        from toolforge.environment import load_mock

        load_mock(cfg.mock)
    teacher = teacher or _teacher(cfg)
    return asyncio.run(_generate(db, cfg, run_id, tools, teacher, on_progress))


async def _generate(db: Path, cfg: GenerateConfig, run_id: str | None, tools: list[Tool], teacher: Teacher,
                    on_progress: Callable[[Progress], None] | None) -> RunSummary:
    from toolforge.store import open_store

    try:
        check = getattr(teacher, "check", None)
        if check is not None:
            await check()
        seed = cfg.seed if cfg.seed is not None else secrets.randbelow(2**31)
        cfg = cfg.model_copy(update={"seed": seed})
        t0 = time.monotonic()
        with open_store(db) as store:
            if run_id is None:
                run_id = store.create_run("generate", name=cfg.run_name, config=cfg.public())
            else:
                import json

                store.con.execute("UPDATE runs SET config = ?, status = 'running', updated_at = current_timestamp "
                                  "WHERE id = ?", [json.dumps(cfg.public()), run_id])
            committed = run_counts(store, run_id)
            before = sum(committed.values())
            seen = {normalise_request(t) for t in run_user_texts(store, run_id)}
            from toolforge.catalog import load_returns

            env = None
            if cfg.resolved_mode in ("stepwise", "session"):
                from toolforge.environment import Environment, load_mock

                env = Environment(tools, returns=load_returns(list(cfg.catalogs)), simulator=teacher,
                                  mock=load_mock(cfg.mock) if cfg.mock else None, run_safe=cfg.run_safe_tools)
            runner = Runner(cfg, teacher, tools, run_id=run_id, seed=seed, seen=seen, on_progress=on_progress,
                            returns=load_returns(list(cfg.catalogs)), env=env)
            progress = Progress(target=cfg.total, accepted=min(before, cfg.total), run_id=run_id)
            if on_progress is not None:
                on_progress(progress)
            writer = RunWriter(store, run_id)
            status = "failed"
            try:
                await runner.run(writer, committed, next_jobs(store, run_id), progress)
                status = "done"
            except (asyncio.CancelledError, KeyboardInterrupt):
                status = "interrupted"
                raise
            finally:
                if runner.stepwise is not None:
                    runner.stepwise.env.close()
                if runner.session is not None:
                    runner.session.env.close()
                store.set_run_status(run_id, status)
                from toolforge.generate.storage import failure_counts

                stored = run_counts(store, run_id)
                summary = RunSummary(run_id, dict(cfg.targets), stored, sum(stored.values()) - before,
                                     failure_counts(store, run_id), time.monotonic() - t0, status)
                log.info("generation run %s: %s", run_id, summary.to_dict())
            return summary
    except FatalBackendError:
        raise
    except ToolforgeError:
        raise
    finally:
        await teacher.aclose()
