"""`toolforge tts` with real espeak-ng audio: files, rows, determinism, voice settings, QC, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from toolforge.audio.engines import get_engine
from toolforge.audio.qc import check_file
from toolforge.audio.store import audio_root, audio_rows, voice_distribution
from toolforge.audio.voices import VoiceSpec
from toolforge.record import Record
from toolforge.store import open_store

pytestmark = pytest.mark.integration

SENTENCE = "Please turn the camera to the left and take a picture."


def _mark_valid(db, ids=None):
    with open_store(db) as store:
        ids = ids or store.select_ids()
        store.replace_issues("schema", [(i, []) for i in ids])


@pytest.fixture
def espeak():
    return get_engine("espeak")


def test_espeak_is_deterministic(espeak):
    spec = VoiceSpec(voice="en-gb+m3", rate=160, pitch=45)
    a = espeak.synthesize(SENTENCE, spec)
    b = espeak.synthesize(SENTENCE, spec)
    assert a.sample_rate == 22050
    assert np.array_equal(a.samples, b.samples)
    assert 2.0 < a.duration_s < 6.0


def test_rate_pitch_and_voice_change_the_audio(espeak):
    base = espeak.synthesize(SENTENCE, VoiceSpec(voice="en-us", rate=150, pitch=50))
    fast = espeak.synthesize(SENTENCE, VoiceSpec(voice="en-us", rate=260, pitch=50))
    assert fast.duration_s < base.duration_s * 0.75

    def f0(speech):
        # median of the strongest autocorrelation lag (80-400 Hz) over voiced frames
        x, sr = speech.samples, speech.sample_rate
        n = int(sr * 0.04)
        lags = []
        for start in range(0, len(x) - n, n):
            fr = x[start:start + n]
            if np.sqrt(np.mean(fr ** 2)) < 0.05:
                continue
            ac = np.correlate(fr, fr, "full")[n - 1:]
            lo, hi = sr // 400, sr // 80
            lags.append(lo + int(np.argmax(ac[lo:hi])))
        return sr / float(np.median(lags))

    low = espeak.synthesize(SENTENCE, VoiceSpec(voice="en-us", rate=150, pitch=10))
    high = espeak.synthesize(SENTENCE, VoiceSpec(voice="en-us", rate=150, pitch=90))
    assert f0(high) > f0(low) * 1.3
    female = espeak.synthesize(SENTENCE, VoiceSpec(voice="en-us+f3", rate=150, pitch=50))
    assert f0(female) > f0(base) * 1.2
    other = espeak.synthesize(SENTENCE, VoiceSpec(voice="en-gb-scotland", rate=150, pitch=50))
    assert len(other.samples) != len(base.samples) or not np.array_equal(other.samples, base.samples)


def test_tts_cli_writes_files_rows_and_resumes(run_cli, filled_db, sample_records):
    _mark_valid(filled_db)
    proc = run_cli("tts", "--db", filled_db, "--json", check=True)
    summary = json.loads(proc.stdout)
    assert summary["records"] == len(sample_records)
    assert summary["synthesised"] == summary["turns"] > len(sample_records)
    assert summary["failed"] == 0 and summary["qc_failed"] == 0
    assert summary["plan"]["distinct_voices"] >= 4

    with open_store(filled_db, read_only=True) as store:
        rows = audio_rows(store)
        root = audio_root(store)
        assert root == filled_db.parent / "store-audio"
        assert len(rows) == summary["turns"]
        for row in rows:
            assert not row["path"].startswith("/") and row["abs_path"] == root / row["path"]
            info = sf.info(str(row["abs_path"]))
            assert info.samplerate == 24000 == row["sample_rate"] and info.channels == 1
            assert info.duration == pytest.approx(row["duration_s"], abs=0.01)
            assert row["duration_s"] > 0.5 and row["qc_ok"] and row["engine"] == "espeak"
            rec = store.get_record(row["record_id"])
            assert rec.messages[row["turn"]].role == row["role"]
            assert row["record_id"].replace(":", "_") in row["path"]
        users = [r for r in rows if r["role"] == "user"]
        assert len({r["voice"] for r in users}) >= 4
        assert len({r["voice"] for r in rows if r["role"] == "assistant"}) == 1
        dist = voice_distribution(store)
        assert dist["files"] == len(rows) and dist["qc_failed"] == 0
        assert sum(v["files"] for v in dist["voices"]) == len(rows)
        user_range = next(r for r in dist["ranges"] if r["role"] == "user")
        assert user_range["distinct_voices"] == len({r["voice"] for r in users})
        assert 140 <= user_range["rate"][0] <= user_range["rate"][1] <= 180
    # resumable: a second run synthesises nothing
    again = json.loads(run_cli("tts", "--db", filled_db, "--json", check=True).stdout)
    assert again["synthesised"] == 0 and again["skipped_existing"] == summary["turns"]
    # a deleted file is synthesised again, identical (deterministic espeak)
    victim = rows[0]["abs_path"]
    before = victim.read_bytes()
    victim.unlink()
    third = json.loads(run_cli("tts", "--db", filled_db, "--json", "--workers", "2", check=True).stdout)
    assert third["synthesised"] == 1
    assert victim.read_bytes() == before


def test_tts_16k_flac_parallel(run_cli, filled_db):
    proc = run_cli("tts", "--db", filled_db, "--status", "any", "--sample-rate", "16000", "--audio-format", "flac",
                   "--workers", "2", "--replies", "none", "--json", check=True)
    summary = json.loads(proc.stdout)
    assert summary["synthesised"] == summary["turns"] == 8   # one user turn per sample record
    with open_store(filled_db, read_only=True) as store:
        for row in audio_rows(store):
            info = sf.info(str(row["abs_path"]))
            assert (info.format, info.samplerate, row["role"]) == ("FLAC", 16000, "user")


def test_qc_flags_planted_files(tmp_path, espeak):
    speech = espeak.synthesize(SENTENCE, VoiceSpec(voice="en-us"))
    from toolforge.audio.dsp import prepare

    good = prepare(speech.samples, speech.sample_rate, 24000)
    files = {
        "good": good,
        "silent": np.zeros_like(good),
        "clipped": np.clip(good * 8, -1, 1),
        "truncated": good[: len(good) // 2],
        "normalised": good / np.max(np.abs(good)),
    }
    results = {}
    for name, samples in files.items():
        path = tmp_path / f"{name}.wav"
        sf.write(str(path), samples, 24000, subtype="PCM_16")
        results[name] = {c for c, _ in check_file(path, text=SENTENCE).issues}
    assert results["good"] == set() and results["normalised"] == set()
    assert "audio.silent" in results["silent"]
    assert "audio.clipped" in results["clipped"]
    assert "audio.truncated" in results["truncated"]


def test_qc_failures_are_stored_as_issues(filled_db):
    from toolforge.audio.qc import QCConfig
    from toolforge.audio.run import TTSConfig, run_tts
    from toolforge.store import Selection

    with open_store(filled_db) as store:
        # an impossible QC bar: every file is "too long"; rows are kept, marked, and issues stored
        summary = run_tts(store, Selection(status="any", limit=1), TTSConfig(qc=QCConfig(max_duration_s=0.5)))
        assert summary.qc_failed == summary.synthesised > 0
        rows = audio_rows(store)
        assert rows and not any(r["qc_ok"] for r in rows)
        codes = store.con.execute("SELECT DISTINCT code, stage FROM issues").fetchall()
        assert codes == [("audio.too_long", "audio")]
        # audio QC does not make a record "invalid" (validations are untouched)
        assert store.con.execute("SELECT count(*) FROM validations").fetchone()[0] == 0


def test_bad_input_gets_one_line_errors_and_writes_nothing(run_cli, filled_db, tmp_path):
    def err(*args):
        proc = run_cli("tts", "--db", filled_db, "--status", "any", *args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
        return proc.stderr

    assert "Invalid value for '--engine': 'festival' is not one of 'espeak'" in err("--engine", "festival")
    assert "unknown espeak voice 'xx-nowhere'" in err("--voice", "xx-nowhere")
    assert "unknown espeak variant" in err("--variant", "nosuch")
    assert "sample rate" in err("--sample-rate", "12345")
    assert "replies" in err("--replies", "sometimes")
    assert "rate" in err("--rate", "fast")
    assert "coqui" in err("--engine", "coqui")
    root = filled_db.parent / "store-audio"
    assert not root.exists() or not any(root.rglob("*.wav"))
    # an output folder that cannot be written (a file where the folder should be)
    root.write_text("not a folder")
    assert "cannot write audio files under" in err()
    root.unlink()
    with open_store(filled_db, read_only=True) as store:
        assert audio_rows(store) == []


def test_records_without_text_to_speak(run_cli, tmp_db, tmp_path):
    recs = [Record.model_validate({"messages": [{"role": "user", "content": " "},
                                                {"role": "assistant", "content": ""}]}),
            Record.model_validate({"messages": [{"role": "user", "content": ""},
                                                {"role": "assistant", "content": "**`**"}]})]
    with open_store(tmp_db) as store:
        store.upsert_records(recs, source="test")
    proc = run_cli("tts", "--db", tmp_db, "--status", "any")
    assert proc.returncode == 2
    assert "none of the 2 selected records has text to speak" in proc.stderr
    assert not (tmp_path / "store-audio").exists()
    # mixed: the speakable record is voiced, the empty user turns are stored as issues
    good = Record.model_validate({"messages": [{"role": "user", "content": "Hello there."},
                                              {"role": "assistant", "content": "Hi!"}]})
    with open_store(tmp_db) as store:
        store.upsert_records([good], source="test")
    summary = json.loads(run_cli("tts", "--db", tmp_db, "--status", "any", "--json", check=True).stdout)
    assert summary["synthesised"] == 2 and summary["no_text"] == 2
    with open_store(tmp_db, read_only=True) as store:
        codes = store.con.execute("SELECT code, count(*) FROM issues GROUP BY code").fetchall()
        assert codes == [("audio.no_text", 2)]


def test_interrupted_partial_files_are_not_taken_for_done(filled_db):
    from toolforge.audio.run import TTSConfig, run_tts
    from toolforge.store import Selection

    with open_store(filled_db) as store:
        first = run_tts(store, Selection(status="any", limit=1), TTSConfig(replies="none"))
        row = audio_rows(store)[0]
        # simulate a crash: a stray temporary file, and a row whose file never landed
        partial = row["abs_path"].with_name(f".{row['abs_path'].name}.999.tmp")
        shutil.copyfile(row["abs_path"], partial)
        row["abs_path"].unlink()
        again = run_tts(store, Selection(status="any", limit=1), TTSConfig(replies="none"))
        assert first.synthesised == again.synthesised == 1
        assert row["abs_path"].is_file() and not partial.exists()


def test_missing_espeak_names_the_apt_package(run_cli, filled_db, tmp_path):
    import sys

    bin_dir = tmp_path / "bin"           # a PATH with python but without espeak-ng
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(Path(sys.executable))
    proc = run_cli("tts", "--db", filled_db, "--status", "any", env={"PATH": str(bin_dir)})
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["error: the espeak-ng program is not available",
                                        "hint: install it: apt-get install espeak-ng"]


def test_killed_run_resumes_without_taking_partial_work_for_done(run_cli, tmp_db, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    recs = [Record.model_validate({"messages": [
        {"role": "user", "content": f"Please read item number {i} of my shopping list aloud, slowly."},
        {"role": "assistant", "content": f"Item number {i} on your list is a bag of apples and some bread."}]})
        for i in range(40)]
    with open_store(tmp_db) as store:
        store.upsert_records(recs, source="test")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "toolforge", "tts", "--db", str(tmp_db), "--status", "any",
                             "--workers", "2"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    root = tmp_path / "store-audio"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(root.rglob("*.wav"))) < 10 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open_store(tmp_db, read_only=True) as store:
        for row in audio_rows(store):          # every stored row points at a complete file
            assert sf.info(str(row["abs_path"])).duration == pytest.approx(row["duration_s"], abs=0.01)
        done_before = len(audio_rows(store))
    summary = json.loads(run_cli("tts", "--db", tmp_db, "--status", "any", "--json", check=True).stdout)
    assert summary["skipped_existing"] == done_before
    assert summary["skipped_existing"] + summary["synthesised"] == 80 and summary["failed"] == 0
    with open_store(tmp_db, read_only=True) as store:
        assert len(audio_rows(store)) == 80
    assert not list(root.rglob("*.tmp"))


def test_dry_run_and_listings_write_nothing(run_cli, filled_db):
    plan = json.loads(run_cli("tts", "--db", filled_db, "--status", "any", "--dry-run", "--json", check=True).stdout)
    assert plan["records"] == 8 and plan["to_synthesise"] == 16 and plan["already_done"] == 0
    assert plan["plan"]["distinct_voices"] >= 4 and sum(plan["plan"]["voices"].values()) == 16
    assert not (filled_db.parent / "store-audio").exists()
    with open_store(filled_db, read_only=True) as store:
        assert audio_rows(store) == []
        assert store.con.execute("SELECT count(*) FROM runs WHERE kind = 'tts'").fetchone()[0] == 0
    engines = {e["engine"]: e for e in json.loads(run_cli("tts", "--list-engines", "--json", check=True).stdout)}
    assert engines["espeak"]["available"] and engines["piper"]["available"]
    assert engines["coqui"]["available"] or "toolforge[coqui]" in engines["coqui"]["why_not"]
    voices = run_cli("tts", "--engine", "piper", "--list-voices", check=True).stdout.split()
    assert voices == ["joe-us"]


def test_scenario_session_voices_the_sessions_only(run_cli, tmp_path):
    """`-s session` selects multi-turn sessions (scenario None), as stats/export do: every user turn of the
    session is voiced, the single_tool record is not."""
    from tests.fixtures.sessions import mixed_store

    db = tmp_path / "mixed.duckdb"
    ids = mixed_store(db)
    summary = json.loads(run_cli("tts", "-s", "session", "--status", "any", "--replies", "none", "--db", db,
                                 "--json", check=True).stdout)
    assert summary["records"] == 1 and summary["synthesised"] == summary["turns"] == 3, summary
    with open_store(db, read_only=True) as store:
        rows = audio_rows(store)
        assert {r["record_id"] for r in rows} == set(ids["session"])
        rec = store.get_record(ids["session"][0])
        assert sorted(r["turn"] for r in rows) == [i for i, m in enumerate(rec.messages) if m.role == "user"]
