"""`toolforge tts`: paired audio for the selected records."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from toolforge.cli.choices import (
    SELECT_SCENARIOS,
    AudioFormat,
    Replies,
    Status,
    TTSEngine,
    each_one_of,
)
from toolforge.cli.common import DbOption, JsonOption, default_db, info, print_json


def register(app: typer.Typer) -> None:
    app.command("tts", no_args_is_help=False)(tts_cmd)


def _range(value: str | None, what: str) -> tuple[float, float] | None:
    from toolforge.errors import UsageError

    if value is None:
        return None
    try:
        lo, _, hi = value.partition(":")
        low = float(lo)
        high = float(hi) if hi else low
    except ValueError:
        raise UsageError(f"--{what} {value!r} is not a number or a LOW:HIGH range", hint="e.g. 140:185") from None
    if low > high:
        raise UsageError(f"--{what} {value!r}: the low end is above the high end")
    return low, high


def tts_cmd(
    engine: Annotated[TTSEngine, typer.Option(help="TTS engine: espeak (default), piper, pyttsx3, coqui.")] = "espeak",
    voice: Annotated[Optional[list[str]], typer.Option("--voice", help="Voices to draw from (repeat); default: the engine's plan.")] = None,
    variant: Annotated[Optional[list[str]], typer.Option("--variant", help="espeak variants to draw from (repeat), e.g. m3, f2.")] = None,
    rate: Annotated[Optional[str], typer.Option(help="Rate range LOW:HIGH (espeak: words per minute).")] = None,
    pitch: Annotated[Optional[str], typer.Option(help="Pitch range LOW:HIGH (espeak: 0-99).")] = None,
    length_scale: Annotated[Optional[str], typer.Option(help="Piper length scale range (speed), e.g. 0.85:1.15.")] = None,
    noise_scale: Annotated[Optional[str], typer.Option(help="Piper noise scale range.")] = None,
    noise_w: Annotated[Optional[str], typer.Option(help="Piper phoneme width noise range.")] = None,
    assistant_voice: Annotated[Optional[str], typer.Option(help="The assistant's (fixed) voice.")] = None,
    vary_assistant: Annotated[bool, typer.Option("--vary-assistant", help="Draw the assistant's voice from the plan too.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the voice plan.")] = 0,
    sample_rate: Annotated[int, typer.Option(help="Output sample rate in Hz (24000 or 16000 are usual).")] = 24000,
    audio_format: Annotated[AudioFormat, typer.Option("--audio-format", help="wav or flac.")] = "wav",
    pad_ms: Annotated[str, typer.Option(help="Silence padding LEAD:TRAIL in milliseconds.")] = "150:200",
    replies: Annotated[Replies, typer.Option(help="Voice the assistant's replies: per-turn, final, none.")] = "per-turn",
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    asr_check: Annotated[bool, typer.Option("--asr-check", help="Transcribe each file with Whisper base and flag a high WER.")] = False,
    asr_max_wer: Annotated[Optional[float], typer.Option(min=0.0, help="Flag files above this WER (default per engine: espeak 0.5, piper 0.25).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Synthesise again even turns that already have audio.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan (turns, voices) and write nothing.")] = False,
    list_engines: Annotated[bool, typer.Option("--list-engines", help="List engines and whether they can run here.")] = False,
    list_voices: Annotated[bool, typer.Option("--list-voices", help="List the engine's voices.")] = False,
    status: Annotated[Status, typer.Option(help="Which records: curated (default: accepted, else valid), any, valid, ...")] = "curated",
    scenario: Annotated[Optional[list[str]], typer.Option("--scenario", "-s", callback=each_one_of(SELECT_SCENARIOS), metavar="SCENARIO", help="Only these scenarios (session: multi-turn sessions).")] = None,
    record_id: Annotated[Optional[list[str]], typer.Option("--id", help="Only these record ids (repeat).")] = None,
    include_duplicates: Annotated[bool, typer.Option("--include-duplicates", help="Also voice records marked as duplicates.")] = False,
    limit: Annotated[Optional[int], typer.Option(min=1, help="At most this many records.")] = None,
    db: DbOption = default_db(),
    as_json: JsonOption = False,
) -> None:
    """Synthesise audio for user turns and spoken replies (resumable, parallel, with QC)."""
    from toolforge.audio.engines import available, get_engine
    from toolforge.cli.display import print_text
    from toolforge.errors import UsageError

    if list_engines:
        rows = [{"engine": n, "available": why is None, "why_not": why} for n, why in available().items()]
        if as_json:
            print_json(rows)
        else:
            for r in rows:
                state = "ok" if r["available"] else f"unavailable: {r['why_not']}"
                print_text(f"{r['engine']:8} {state}")
        return
    if list_voices:
        eng = get_engine(engine)
        names = eng.voices()
        if as_json:
            print_json(names)
        else:
            print_text("\n".join(names))
        return

    from pydantic import ValidationError

    from toolforge.audio.run import TTSConfig, build_plan, plan_jobs, run_tts
    from toolforge.store import make_selection, open_store

    pad = _range(pad_ms, "pad-ms")
    assert pad is not None
    try:
        cfg = TTSConfig(
            engine=engine, voices=voice, variants=variant, rate=_range(rate, "rate"), pitch=_range(pitch, "pitch"),
            length_scale=_range(length_scale, "length-scale"), noise_scale=_range(noise_scale, "noise-scale"),
            noise_w=_range(noise_w, "noise-w"), assistant_voice=assistant_voice, vary_assistant=vary_assistant,
            seed=seed, sample_rate=sample_rate, format=audio_format, pad_ms=pad, replies=replies,  # type: ignore[arg-type]
            workers=workers, asr_check=asr_check, force=force,
            asr_thresholds={engine: asr_max_wer} if asr_max_wer is not None else None,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}") from None
    sel = make_selection(status=status, scenarios=scenario, include_duplicates=include_duplicates, limit=limit,
                         ids=record_id)

    if dry_run:
        eng = get_engine(cfg.engine)
        plan = build_plan(eng, cfg)
        with open_store(db, read_only=True) as store:
            jobs, done, problems, n_records = plan_jobs(store, sel, cfg, plan)
        for spec in {j.spec for j in jobs}:
            eng.check_voice(spec)
        dist = plan.distribution(sorted({j.record_id for j in jobs}))
        out = {"records": n_records, "to_synthesise": len(jobs), "already_done": done, "no_text": len(problems),
               "plan": dist}
        if as_json:
            print_json(out)
        else:
            info(f"{n_records} records: {len(jobs)} turns to synthesise, {done} already done, "
                 f"{len(problems)} without text")
            for name, n in dist["voices"].items():
                print_text(f"{n:6}  {name}")
        return

    from toolforge.cli.display import ProgressLines, is_quiet, stderr_is_terminal

    counts = {"done": 0, "total": 0}
    bar: Any = None
    lines: Any = None
    if stderr_is_terminal() and not as_json and not is_quiet():
        from rich.progress import Progress

        from toolforge.cli.common import stderr_console

        bar = Progress(console=stderr_console(), transient=True)
        task = bar.add_task("tts", total=None)
        bar.start()
    elif not is_quiet():  # a log file or CI: a line every few seconds
        lines = ProgressLines("tts", lambda: f"{counts['done']}/{counts['total']} turns")
        lines.__enter__()

    def progress_cb(done: int, total: int) -> None:
        counts.update(done=done, total=total)
        if bar is not None:
            bar.update(task, completed=done, total=total)

    try:
        with open_store(db, create=False) as store:
            summary = run_tts(store, sel, cfg, progress=progress_cb)
    finally:
        if bar is not None:
            bar.stop()
        if lines is not None:
            lines.__exit__(None, None, None)
    for failure in summary.errors[:10]:
        info(f"failed: {failure}")
    if as_json:
        print_json(summary.as_dict())
    else:
        info(f"{summary.synthesised} files written ({summary.seconds_audio:.1f} s of audio in {summary.wall_s:.1f} s), "
             f"{summary.skipped_existing} already done, {summary.qc_failed} failed QC, {summary.failed} failed, "
             f"{summary.no_text} turns without text")
    if summary.failed:
        raise SystemExit(1)
