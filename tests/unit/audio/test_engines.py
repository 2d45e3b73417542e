"""The engine registry: unknown names, missing extras, voice checks (espeak-ng is a required component)."""

import pytest

from toolforge.audio.engines import ENGINES, Engine, available, get_engine
from toolforge.audio.voices import VoiceSpec
from toolforge.errors import BackendError, MissingExtraError, UsageError


def test_unknown_engine_names_the_choices():
    with pytest.raises(UsageError) as exc:
        get_engine("festival")
    assert "espeak" in exc.value.hint and "piper" in exc.value.hint


def test_registry_reports_every_engine_and_why_not():
    got = available()
    assert set(got) == set(ENGINES)
    assert got["espeak"] is None and got["piper"] is None   # installed here (apt espeak-ng, piper-tts)
    for name, why in got.items():
        if why is not None:
            assert "pip install 'toolforge[" in why or "apt-get install" in why


def test_coqui_fails_with_a_clear_message_offline():
    try:
        engine = get_engine("coqui")
    except MissingExtraError as exc:
        assert exc.hint == "install it: pip install 'toolforge[coqui]'"
        return
    with pytest.raises(BackendError) as exc:   # installed but its weights cannot be downloaded here
        engine.check_voice(VoiceSpec(voice="tts_models/en/ljspeech/vits"))
    assert "download" in exc.value.hint


def test_espeak_engine_checks_voices_variants_and_ranges():
    eng = get_engine("espeak")
    assert isinstance(eng, Engine)
    assert "en-us" in eng.voices() and "en-gb" in eng.voices()
    eng.check_voice(VoiceSpec(voice="en-gb-scotland+f2", rate=160, pitch=40))
    for bad in (VoiceSpec(voice="xx-nowhere"), VoiceSpec(voice="en-us+nosuchvariant"),
                VoiceSpec(voice="en-us", rate=5), VoiceSpec(voice="en-us", pitch=150)):
        with pytest.raises(UsageError):
            eng.check_voice(bad)


def test_piper_voice_resolution():
    eng = get_engine("piper")
    assert eng.voices() == ["joe-us"]
    eng.check_voice(VoiceSpec(voice="joe-us"))
    with pytest.raises(UsageError) as exc:
        eng.check_voice(VoiceSpec(voice="nobody-us"))
    assert "joe-us" in exc.value.hint
