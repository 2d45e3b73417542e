"""`tts --workers N` with espeak-ng: warm worker processes (libespeak-ng loaded once, each voice once)
where the library is there, else threads that speak the next turn while the last one is resampled,
written and checked. Either way the files and rows equal the one-turn-at-a-time CLI path (workers=1),
and a failing turn is still reported per turn without stopping the others."""

from __future__ import annotations

import hashlib

import pytest

from toolforge.audio import run as tts_run
from toolforge.audio.engines import espeak as espeak_mod
from toolforge.audio.store import audio_root, audio_rows
from toolforge.record import Record
from toolforge.store import Selection, open_store

pytestmark = pytest.mark.integration


def _records(n: int) -> list[Record]:
    return [Record.model_validate({"messages": [
        {"role": "user", "content": f"Can you check the train to Bergen number {i} for me?"},
        {"role": "assistant", "content": f"I checked train {i}; it leaves on time from platform {i % 5 + 1}."}]})
        for i in range(n)]


def _run(tmp_path, name: str, workers: int, records: list[Record]) -> tuple[dict, dict, object]:
    db = tmp_path / name / "s.duckdb"
    db.parent.mkdir()
    with open_store(db) as store:
        store.upsert_records(records, source="t")
        summary = tts_run.run_tts(store, Selection(status="any"), tts_run.TTSConfig(engine="espeak", workers=workers))
        root = audio_root(store)
        rows = {(r["record_id"], r["turn"]): r for r in audio_rows(store, [r.id for r in records])}
    files = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in root.rglob("*") if p.is_file()}
    return files, rows, summary


@pytest.mark.parametrize("warm", [True, False])
def test_parallel_workers_write_what_one_worker_writes(tmp_path, monkeypatch, warm):
    recs = _records(12)
    one_files, one_rows, one = _run(tmp_path, "one", 1, recs)
    assert espeak_mod.EspeakEngine().warm_batches  # libespeak-ng is installed with espeak-ng (scripts/setup.sh)
    if not warm:
        monkeypatch.setattr(espeak_mod.EspeakEngine, "warm_batches", False)
    two_files, two_rows, two = _run(tmp_path, "two", 2, recs)
    assert one.synthesised == two.synthesised == 24 and not one.failed and not two.failed
    assert two_files == one_files and len(two_files) == 24
    keep = ("path", "voice", "rate", "pitch", "sample_rate", "duration_s", "qc_ok", "text_sha", "params")
    assert {k: {f: r.get(f) for f in keep} for k, r in two_rows.items()} == \
           {k: {f: r.get(f) for f in keep} for k, r in one_rows.items()}


def test_a_failing_turn_is_reported_and_the_others_are_stored(tmp_path, monkeypatch):
    recs = _records(5)
    real = espeak_mod.EspeakEngine.synthesize

    def flaky(self, text, spec):
        if "number 3 " in text:
            raise espeak_mod.EspeakFailed("espeak-ng failed (1): planted")
        return real(self, text, spec)

    monkeypatch.setattr(espeak_mod.EspeakEngine, "synthesize", flaky)
    monkeypatch.setattr(espeak_mod.EspeakEngine, "warm_batches", False)  # the threads path (in this process)
    files, rows, summary = _run(tmp_path, "flaky", 2, recs)
    assert summary.failed == 1 and summary.synthesised == 9
    assert any("planted" in e and recs[3].id in e for e in summary.errors)
    assert len(files) == 9 and (recs[3].id, 0) not in rows and (recs[3].id, 1) in rows


def test_a_failing_turn_in_a_warm_batch_is_reported_per_turn(tmp_path):
    """The warm path's worker function, in this process: a turn the engine could not speak (an unknown
    voice, as the server reports it) is an error row; the others in the batch are written."""
    from toolforge.audio.voices import VoiceSpec

    cfg = tts_run.TTSConfig(engine="espeak", workers=2)
    tts_run._W.update(cfg=cfg, engine=espeak_mod.EspeakEngine(), asr=None)  # what _init_worker sets up
    try:
        jobs = [tts_run.Job(f"r{i}", 0, "user", f"Turn number {i}.", VoiceSpec(voice=v, rate=160.0, pitch=50.0),
                            f"r{i}/0-user.wav", "sha") for i, v in enumerate(["en-us", "nosuchvoice", "en-us"])]
        out = tts_run._synth_batch(jobs, str(tmp_path))
    finally:
        tts_run._W["engine"].close()
        tts_run._W.clear()
    assert "error" not in out[0] and "error" not in out[2] and (tmp_path / "r0/0-user.wav").is_file()
    assert "could not load voice 'nosuchvoice'" in out[1]["error"] and not (tmp_path / "r1/0-user.wav").exists()
