"""The warm espeak server speaks each utterance from the state a fresh `espeak-ng` process has: its
samples equal the CLI's, sample for sample, whatever came before in the batch (voices, variants,
rates, pitches, multi-line and long text); and the WAV header written by hand is libsndfile's."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from toolforge.audio.dsp import write_audio
from toolforge.audio.engines.espeak import EspeakEngine, EspeakFailed
from toolforge.audio.engines.espeak_zygote import stdin_pieces
from toolforge.audio.voices import VoiceSpec

ITEMS = [
    ("Hello there, can you check the weather in Oslo?", VoiceSpec(voice="en-us")),
    ("I need an update on my flight to Lisbon, and please keep it short.", VoiceSpec(voice="en-gb+m3", rate=150, pitch=40)),
    ("-dash start «quoted» café 42.5%", VoiceSpec(voice="en-gb-scotland", rate=170.4, pitch=60)),
    ("Hello there, can you check the weather in Oslo?", VoiceSpec(voice="en-us+f2", rate=140, pitch=30)),
    ("Third line\n\nwith a blank line before it", VoiceSpec(voice="en-gb+m3", rate=151, pitch=41)),
    ("a\r\nb\rc\n\n\nd", VoiceSpec(voice="en-us", pitch=70)),
    (("word " * 150 + "éé " * 200 + "\n") * 2 + "end", VoiceSpec(voice="en-us", rate=400)),  # lines over 999 bytes
    ("Hello there, can you check the weather in Oslo?", VoiceSpec(voice="en-us")),  # again, after all the others
]


@pytest.fixture(scope="module")
def engine():
    eng = EspeakEngine()
    assert eng.warm_batches  # libespeak-ng comes with espeak-ng (scripts/setup.sh): no silent fallback here
    yield eng
    eng.close()


def test_warm_samples_equal_the_cli_samples(engine):
    warm = engine.synthesize_many(ITEMS)
    for (text, spec), got in zip(ITEMS, warm, strict=True):
        want = engine.synthesize(text, spec)  # one espeak-ng process
        assert not isinstance(got, Exception), got
        assert got.sample_rate == want.sample_rate and len(got.samples) > 1000
        assert np.array_equal(got.samples, want.samples), (text[:30], spec)
    # a second call reuses the server and its loaded voices: still the same samples
    again = engine.synthesize_many(ITEMS[:2])
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(again, warm[:2], strict=True))


def test_unknown_voice_fails_its_items_only(engine):
    out = engine.synthesize_many([("One.", VoiceSpec(voice="en-us")), ("Two.", VoiceSpec(voice="nosuchvoice")),
                                  ("Three.", VoiceSpec(voice="en-us"))])
    assert isinstance(out[1], EspeakFailed) and "nosuchvoice" in str(out[1])
    assert not isinstance(out[0], Exception) and not isinstance(out[2], Exception)


def test_stdin_pieces_follow_fgets():
    assert stdin_pieces(b"ab\ncd") == [b"ab\n", b"cd"]
    assert stdin_pieces(b"ab\n") == [b"ab\n"]
    assert stdin_pieces(b"a\r\nb") == [b"a\r\n", b"b"]
    assert stdin_pieces(b"x" * 2500) == [b"x" * 999, b"x" * 999, b"x" * 502]


@pytest.mark.parametrize("n", [1, 2, 1001, 48_000])
def test_wav_written_by_hand_is_libsndfile_s(tmp_path, n):
    x = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
    got = write_audio(tmp_path / "a.wav", x, 24000, "wav")
    buf = io.BytesIO()
    sf.write(buf, np.clip(np.rint(x * 32767.0), -32767, 32767).astype(np.int16), 24000, format="WAV", subtype="PCM_16")
    assert (tmp_path / "a.wav").read_bytes() == buf.getvalue()
    back, rate = sf.read(str(tmp_path / "a.wav"), dtype="float32")
    assert rate == 24000 and np.array_equal(back, got)
