"""TTS throughput: `toolforge tts --engine espeak --workers 2` beside the bare `espeak-ng` CLI.

Both synthesise the same sentences (user turns and replies of generated
records) with the same voices, rates and pitches, two at a time, in the same
run. Throughput is seconds of audio per wall second; the ratio printed last is
bare-CLI wall time / toolforge wall time on that same work (1.0 = no overhead;
target >= 0.9, issue #17). toolforge's time includes its own start-up, the store, soxr
resampling to 24 kHz, padding, QC and the DB writes. Also printed: Piper's
real-time factor (synthesis seconds per audio second; < 1 is faster than real time).

    python benchmarks/bench_tts.py [--records 500] [--workers 2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolforge.audio.engines import get_engine  # noqa: E402
from toolforge.audio.run import TTSConfig, build_plan  # noqa: E402
from toolforge.audio.text import turns_to_speak  # noqa: E402
from toolforge.record import Record  # noqa: E402
from toolforge.store import open_store  # noqa: E402

SUBJECTS = ["the weather in Oslo", "my flight to Lisbon", "the camera on the porch", "the quarterly report",
            "the kitchen lights", "a table for four", "the DuckDB release notes", "the train to Bergen",
            "my dentist appointment", "the exchange rate for euros"]
ASKS = ["Can you check {s} for me?", "Please tell me about {s} before noon.",
        "I need an update on {s}, and please keep it short.", "What is going on with {s} today?"]
REPLIES = ["Here is what I found about {s}: everything looks fine.", "Done. I have looked into {s} for you.",
           "I checked {s}; there is nothing unusual to report right now, but I will keep an eye on it."]


def make_records(n: int) -> list[Record]:
    recs = []
    for i in range(n):
        s = SUBJECTS[i % len(SUBJECTS)] + ("" if i < len(SUBJECTS) else f" number {i}")
        recs.append(Record.model_validate({"messages": [
            {"role": "user", "content": ASKS[i % len(ASKS)].format(s=s)},
            {"role": "assistant", "content": REPLIES[i % len(REPLIES)].format(s=s)}]}))
    return recs


def bare_espeak(jobs: list[tuple[str, list[str]]], out: Path, workers: int) -> tuple[float, float]:
    """(wall seconds, audio seconds) for `espeak-ng ... -w file text` per sentence, `workers` at a time."""
    def one(i_job: tuple[int, tuple[str, list[str]]]) -> float:
        i, (text, args) = i_job
        path = out / f"{i}.wav"
        subprocess.run(["espeak-ng", *args, "-w", str(path), text], check=True, capture_output=True)
        return sf.info(str(path)).duration

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        audio = sum(pool.map(one, enumerate(jobs)))
    return time.perf_counter() - start, audio


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=500, help="records (x2 utterances); the LFM2-Audio note asks for 1,000+ examples")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--piper-sentences", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=2, help="alternating runs of each; the best is kept")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-tts-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    records = make_records(args.records)

    # the same sentences and voices toolforge will use (its seeded plan), for the bare CLI
    engine = get_engine("espeak")
    plan = build_plan(engine, TTSConfig())
    jobs: list[tuple[str, list[str]]] = []
    for rec in records:
        assert rec.id is not None
        for turn in turns_to_speak(rec)[0]:
            cmd = engine.command(plan.pick(rec.id, turn.role))
            jobs.append((turn.text, [a for a in cmd[1:] if a != "--stdout"]))   # bare: `-w file text`

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bare_walls, tf_walls = [], []
    bare_audio = 0.0
    summary: dict = {}
    for rep in range(args.repeat):   # alternate, keep the best of each (the machine may be shared)
        bare_dir = tmp / f"bare{rep}"
        bare_dir.mkdir()
        wall, bare_audio = bare_espeak(jobs, bare_dir, args.workers)
        bare_walls.append(wall)
        db = tmp / f"bench{rep}.duckdb"
        with open_store(db) as store:
            store.upsert_records(records, source="bench")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "toolforge", "tts", "--db", str(db), "--status", "any",
                               "--engine", "espeak", "--workers", str(args.workers), "--json"],
                              capture_output=True, text=True, env=env, check=False)
        tf_walls.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"toolforge tts failed: {proc.stderr}")
        summary = json.loads(proc.stdout)
        assert summary["synthesised"] == len(jobs), summary
    bare_wall, tf_wall = min(bare_walls), min(tf_walls)

    piper = get_engine("piper")
    from toolforge.audio.voices import VoiceSpec

    piper.synthesize("Warm up.", VoiceSpec(voice="joe-us"))
    synth_s = audio_s = 0.0
    for text, _ in jobs[: args.piper_sentences]:
        t0 = time.perf_counter()
        speech = piper.synthesize(text, VoiceSpec(voice="joe-us"))
        synth_s += time.perf_counter() - t0
        audio_s += speech.duration_s

    print(f"utterances: {len(jobs)} ({args.records} records), workers: {args.workers}, cores: {os.cpu_count()}, "
          f"best of {args.repeat}; walls bare {[round(w, 2) for w in bare_walls]}, "
          f"toolforge {[round(w, 2) for w in tf_walls]}")
    print(f"bare espeak-ng CLI: {bare_audio:.1f} s audio in {bare_wall:.2f} s wall = "
          f"{bare_audio / bare_wall:.1f} s audio / wall s")
    print(f"toolforge tts:      {summary['seconds_audio']:.1f} s audio (24 kHz, padded) in {tf_wall:.2f} s wall = "
          f"{summary['seconds_audio'] / tf_wall:.1f} s audio / wall s; on the bare CLI's audio seconds: "
          f"{bare_audio / tf_wall:.1f}")
    print(f"piper real-time factor: {synth_s / audio_s:.3f} ({audio_s:.1f} s audio in {synth_s:.2f} s, 1 thread)")
    print(f"ratio toolforge/bare espeak-ng (same sentences, target >= 0.9): {bare_wall / tf_wall:.2f} "
          f"({'met' if bare_wall / tf_wall >= 0.9 else 'NOT met'})")


if __name__ == "__main__":
    main()
