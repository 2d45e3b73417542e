"""`toolforge tts` as a library call: plan the turns, synthesise in worker processes, store the results.

Flow: select records -> for each, the turns to speak (:mod:`toolforge.audio.text`)
-> a voice per record and role from the seeded plan -> skip turns already
synthesised (same text, same engine, file present) -> workers synthesise,
resample, pad, write to a temporary name, QC (and ASR-check) the file and
rename it into place -> the main process upserts rows in batches. A turn gets a
row only once its file is in place, so an interrupted run resumes where it
stopped, and nothing half-written is ever taken for done.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.util import Finalize
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from toolforge.audio.dsp import SAMPLE_RATES, prepare, write_audio
from toolforge.audio.qc import QCConfig, check_samples
from toolforge.audio.store import audio_root, record_text_issues, relative_path, upsert_audio
from toolforge.audio.text import REPLIES, text_sha, turns_to_speak
from toolforge.audio.voices import VoicePlan, VoiceSpec
from toolforge.errors import BackendError, InputError, UsageError

if TYPE_CHECKING:
    from toolforge.audio.engines import Engine
    from toolforge.store.db import Store

log = logging.getLogger(__name__)
Range = tuple[float, float]


class TTSConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: str = "espeak"
    voices: list[str] | None = None            # None: the engine's default plan
    variants: list[str] | None = None
    rate: Range | None = None
    pitch: Range | None = None
    length_scale: Range | None = None
    noise_scale: Range | None = None
    noise_w: Range | None = None
    assistant_voice: str | None = None
    vary_assistant: bool = False
    seed: int = 0
    sample_rate: int = 24000
    format: Literal["wav", "flac"] = "wav"
    pad_ms: Range = (150.0, 200.0)
    replies: Literal["per-turn", "final", "none"] = "per-turn"
    workers: int = Field(default=1, ge=1, le=64)
    asr_check: bool = False
    asr_thresholds: dict[str, float] | None = None
    force: bool = False
    qc: QCConfig = Field(default_factory=QCConfig)


@dataclass
class Job:
    record_id: str
    turn: int
    role: str
    text: str
    spec: VoiceSpec
    rel_path: str
    sha: str


@dataclass
class TTSSummary:
    records: int = 0
    turns: int = 0
    synthesised: int = 0
    skipped_existing: int = 0
    no_text: int = 0
    failed: int = 0
    qc_failed: int = 0
    seconds_audio: float = 0.0
    wall_s: float = 0.0
    run_id: str | None = None
    errors: list[str] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _worker_died(engine: str) -> BackendError:
    return BackendError(f"a {engine} worker process died (out of memory, or killed)",
                        hint="finished turns are stored; run the command again to resume, with fewer --workers")


def build_plan(engine: Engine, cfg: TTSConfig) -> VoicePlan:
    base = engine.default_plan(cfg.seed)
    updates: dict[str, Any] = {"vary_assistant": cfg.vary_assistant}
    for name in ("voices", "variants", "rate", "pitch", "length_scale", "noise_scale", "noise_w"):
        value = getattr(cfg, name)
        if value is not None:
            updates[name] = value
    if cfg.voices is not None and cfg.variants is None:
        updates["variants"] = []   # explicit voices: no random variants unless asked
    if cfg.assistant_voice:
        updates["assistant_voice"] = VoiceSpec(voice=cfg.assistant_voice)
    try:
        return VoicePlan.model_validate({**base.model_dump(), **updates})
    except ValueError as exc:
        raise UsageError(f"bad voice plan: {str(exc).splitlines()[-1].strip()}") from None


def check_writable(root: Path) -> None:
    """Fail before any work when audio cannot be written under ``root``."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"cannot write audio files under {root}: {exc.strerror or exc}",
                         hint="make that folder (next to the store) writable, or move the store") from None


def _clean_partials(root: Path) -> None:
    for p in root.glob("*/*/.*.tmp"):
        p.unlink(missing_ok=True)


# -- worker side ------------------------------------------------------------------------------------
_W: dict[str, Any] = {}


def _exit_with_parent(parent: int) -> None:
    """A worker whose main process is gone (killed) ends too, closing its engine (a warm server)."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        engine = _W.get("engine")
        if engine is not None:
            engine.close()
        os._exit(1)

    threading.Thread(target=watch, name="tts-parent-watch", daemon=True).start()


def _init_worker(cfg_json: str) -> None:
    from toolforge.audio.engines import get_engine

    _exit_with_parent(os.getppid())

    cfg = TTSConfig.model_validate_json(cfg_json)
    _W["cfg"] = cfg
    _W["engine"] = get_engine(cfg.engine)
    _W["asr"] = None
    # closed when the worker process ends (a warm engine's server process is waited for, not orphaned)
    Finalize(_W["engine"], _W["engine"].close, exitpriority=10)
    if cfg.asr_check:
        from toolforge.audio.asr import AsrChecker

        _W["asr"] = AsrChecker(thresholds=cfg.asr_thresholds)


def _synth_job(job: Job, root: str) -> dict[str, Any]:
    return _finish_job(job, root, _speak(job))


def _synth_batch(jobs: list[Job], root: str) -> list[dict[str, Any]]:
    """In a worker process: speak a batch from the engine's warm state, then finish each turn."""
    spoken = _W["engine"].synthesize_many([(job.text, job.spec) for job in jobs])
    return [_finish_job(job, root, speech) for job, speech in zip(jobs, spoken, strict=True)]


def warm_batches(jobs: list[Job], size: int = 24) -> list[list[Job]]:
    """Jobs in batches of one voice (a warm worker loads each voice once per batch), in plan order
    within a voice."""
    by_voice: dict[str, list[Job]] = {}
    for job in jobs:
        by_voice.setdefault(job.spec.voice, []).append(job)
    return [group[i:i + size] for group in by_voice.values() for i in range(0, len(group), size)]


def _speak(job: Job) -> Any:
    """The engine's speech for one job, or the exception it raised (handled by :func:`_finish_job`)."""
    try:
        return _W["engine"].synthesize(job.text, job.spec)
    except Exception as exc:  # noqa: BLE001 - reported per turn by _finish_job
        return exc


def _finish_spoken(job: Job, root: str, spoken: Future[Any]) -> dict[str, Any]:
    return _finish_job(job, root, spoken.result())


def _finish_job(job: Job, root: str, speech: Any) -> dict[str, Any]:
    """Resample, pad, write, QC (and ASR) one synthesised job: the row to store, or an error."""
    cfg: TTSConfig = _W["cfg"]
    final = Path(root) / job.rel_path
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        if isinstance(speech, BaseException):
            raise speech
        samples = prepare(speech.samples, speech.sample_rate, cfg.sample_rate, pad_ms=cfg.pad_ms)
        final.parent.mkdir(parents=True, exist_ok=True)
        written = write_audio(tmp, samples, cfg.sample_rate, cfg.format)
        qc = check_samples(written, cfg.sample_rate, text=job.text, config=cfg.qc)   # exactly the file's samples
        figures: dict[str, Any] = {**qc.figures, "sample_rate": cfg.sample_rate}
        issues = list(qc.issues)
        if _W.get("asr") is not None:
            res = _W["asr"].check(tmp, job.text, cfg.engine)
            figures["asr"] = res
            if not res["ok"]:
                issues.append(("audio.asr_mismatch",
                               f"WER {res['wer']:.2f} above {res['threshold']:.2f}: heard {res['heard'][:120]!r}"))
        os.replace(tmp, final)
    except Exception as exc:  # noqa: BLE001 - one bad utterance must not stop the run; reported per turn
        if tmp.exists():
            tmp.unlink()
        return {"error": f"{job.record_id} turn {job.turn}: {exc}"}
    spec = job.spec
    return {
        "record_id": job.record_id, "turn": job.turn, "role": job.role, "path": job.rel_path,
        "engine": cfg.engine, "voice": spec.voice,
        "rate": spec.rate if spec.rate is not None else (round(1 / spec.length_scale, 4) if spec.length_scale else None),
        "pitch": spec.pitch, "sample_rate": cfg.sample_rate, "duration_s": figures.get("duration_s", 0.0),
        "qc_ok": not issues, "qc": figures, "text_sha": job.sha,
        "params": spec.model_dump(exclude_none=True), "issues": issues,
    }


# -- main side --------------------------------------------------------------------------------------
def plan_jobs(store: Store, selection: Any, cfg: TTSConfig, plan: VoicePlan
              ) -> tuple[list[Job], int, list[tuple[str, int, str]], int]:
    """(jobs to run, turns already done, turns with nothing to speak, records selected)."""
    existing: dict[tuple[str, int], tuple[str, str, str]] = {}
    if not cfg.force:
        for rid, turn, sha, engine, path in store.con.execute(
                "SELECT record_id, turn, text_sha, engine, path FROM audio").fetchall():
            existing[(rid, turn)] = (sha, engine, path)
    root = audio_root(store)
    jobs: list[Job] = []
    done = 0
    problems: list[tuple[str, int, str]] = []
    n_records = 0
    for rec in store.iter_records(selection):
        n_records += 1
        assert rec.id is not None
        turns, bad = turns_to_speak(rec, cfg.replies)
        problems.extend((rec.id, i, why) for i, why in bad)
        for t in turns:
            sha = text_sha(t.text)
            old = existing.get((rec.id, t.index))
            if old and old[0] == sha and old[1] == cfg.engine and (root / old[2]).is_file():
                done += 1
                continue
            jobs.append(Job(rec.id, t.index, t.role, t.text, plan.pick(rec.id, t.role),
                            relative_path(rec.id, t.index, t.role, cfg.format), sha))
    return jobs, done, problems, n_records


def run_tts(store: Store, selection: Any, cfg: TTSConfig, *,
            progress: Callable[[int, int], None] | None = None, batch: int = 200) -> TTSSummary:
    from toolforge.audio.engines import get_engine

    if cfg.sample_rate not in SAMPLE_RATES:
        raise UsageError(f"unsupported sample rate {cfg.sample_rate}",
                         hint=f"choose one of: {', '.join(map(str, SAMPLE_RATES))}")
    if cfg.replies not in REPLIES:
        raise UsageError(f"unknown replies mode {cfg.replies!r}", hint=f"choose one of: {', '.join(REPLIES)}")
    engine = get_engine(cfg.engine)
    if cfg.asr_check:
        from toolforge.audio.asr import check as asr_check
        from toolforge.audio.asr import whisper_model_dir

        asr_check()
        whisper_model_dir()  # join the packaged parts once, before the workers start
    plan = build_plan(engine, cfg)
    jobs, done, problems, n_records = plan_jobs(store, selection, cfg, plan)
    summary = TTSSummary(records=n_records, turns=len(jobs) + done, skipped_existing=done,
                         no_text=len(problems))
    if n_records == 0:
        raise InputError("no records selected for tts",
                         hint="check --status/--scenario (the default is curated: valid or accepted records)")
    if not jobs and not done:
        raise InputError(f"none of the {n_records} selected records has text to speak",
                         hint="their user turns (and replies) are empty; nothing was written")
    for spec in {j.spec for j in jobs}:   # an unknown voice fails here, before anything is written
        engine.check_voice(spec)
    summary.plan = plan.distribution(sorted({j.record_id for j in jobs}),
                                     roles=("user",) if cfg.replies == "none" else ("user", "assistant"))
    root = audio_root(store)
    check_writable(root)
    _clean_partials(root)
    run_id = store.create_run("tts", config=cfg.model_dump(mode="json"))
    summary.run_id = run_id
    record_text_issues(store, problems)
    start = time.perf_counter()
    pending: list[dict[str, Any]] = []

    last_flush = [time.perf_counter()]

    def flush() -> None:
        last_flush[0] = time.perf_counter()
        rows = list(pending)
        pending.clear()
        for r in rows:
            r["run_id"] = run_id
        upsert_audio(store, rows)

    def take(res: dict[str, Any]) -> None:
        if "error" in res:
            summary.failed += 1
            summary.errors.append(res["error"])
            log.warning("tts failed: %s", res["error"])
            return
        summary.synthesised += 1
        summary.seconds_audio += float(res["duration_s"])
        summary.qc_failed += not res["qc_ok"]
        pending.append(res)
        if len(pending) >= batch or time.perf_counter() - last_flush[0] > 3.0:
            flush()

    status = "failed"
    try:
        workers = min(cfg.workers, max(1, len(jobs))) if engine.parallel_safe else 1
        if workers == 1:
            _W.clear()
            _W.update(cfg=cfg, engine=engine, asr=None)
            if cfg.asr_check:
                from toolforge.audio.asr import AsrChecker

                _W["asr"] = AsrChecker(thresholds=cfg.asr_thresholds)
            for n, job in enumerate(jobs, 1):
                take(_synth_job(job, str(root)))
                if progress:
                    progress(n, len(jobs))
        elif jobs and getattr(engine, "warm_batches", False) and not cfg.asr_check:
            # warm worker processes (espeak: libespeak-ng loaded and initialised once per worker, each
            # voice once per batch, the CLI's samples; see toolforge.audio.engines.espeak), each
            # finishing its own turns: the main process only stores rows
            ctx = get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(cfg.model_dump_json(),)) as pool:
                batches = [pool.submit(_synth_batch, batch, str(root)) for batch in warm_batches(jobs)]
                n = 0
                try:
                    for done_batch in as_completed(batches):
                        for res in done_batch.result():
                            n += 1
                            take(res)
                            if progress:
                                progress(n, len(jobs))
                except BrokenProcessPool:
                    raise _worker_died(cfg.engine) from None
        elif jobs and getattr(engine, "external_process", False) and not cfg.asr_check:
            # the engine already runs each utterance in its own OS process (espeak-ng): threads
            # that drive those processes give process-level parallelism without starting Python
            # workers; the numpy/soxr/soundfile steps release the GIL for their heavy parts.
            # Each worker keeps one espeak-ng process running: the Python half of a turn (resample,
            # write, QC) runs on a second set of threads while the worker's next process speaks, so
            # espeak-ng never waits for it. Still `workers` engine processes at a time; same files.
            _W.clear()
            _W.update(cfg=cfg, engine=engine, asr=None)
            with ThreadPoolExecutor(max_workers=workers) as speak_pool, \
                    ThreadPoolExecutor(max_workers=workers) as finish_pool:
                ahead = 4 * workers  # turns spoken ahead of the finishing threads, at most
                finishing: deque[Any] = deque()
                queue = iter(jobs)

                def submit() -> bool:
                    job = next(queue, None)
                    if job is None:
                        return False
                    spoken = speak_pool.submit(_speak, job)
                    finishing.append(finish_pool.submit(_finish_spoken, job, str(root), spoken))
                    return True

                while len(finishing) < ahead and submit():
                    pass
                n = 0
                while finishing:
                    res = finishing.popleft().result()
                    submit()
                    n += 1
                    take(res)
                    if progress:
                        progress(n, len(jobs))
        elif jobs:
            ctx = get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(cfg.model_dump_json(),)) as pool:
                futures = [pool.submit(_synth_job, job, str(root)) for job in jobs]
                try:
                    for n, fut in enumerate(as_completed(futures), 1):
                        take(fut.result())
                        if progress:
                            progress(n, len(jobs))
                except BrokenProcessPool:
                    raise _worker_died(cfg.engine) from None
        flush()
        status = "done" if not summary.failed else "failed"
    finally:
        flush()
        store.set_run_status(run_id, status)
        engine.close()
        _W.clear()
    summary.seconds_audio = round(summary.seconds_audio, 3)
    summary.wall_s = round(time.perf_counter() - start, 3)
    return summary
