"""Audio paths: next to the store, absolute, derived from record id and turn only."""

from pathlib import Path

from toolforge.audio.store import audio_root, relative_path


def test_audio_root_is_absolute_and_beside_the_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = audio_root(Path("toolforge.duckdb"))
    assert root.is_absolute() and root == tmp_path / "toolforge-audio"
    assert audio_root(tmp_path / "sub" / "my.store.duckdb") == tmp_path / "sub" / "my.store-audio"


def test_relative_path_uses_id_and_turn_only():
    rel = relative_path("b2:0123456789abcdef0123456789abcdef", 3, "user", "wav")
    assert rel == "b2_01/b2_0123456789abcdef0123456789abcdef/t003-user.wav"
    assert ":" not in rel and not rel.startswith("/")
