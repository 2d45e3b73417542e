"""LFM2-Audio export: {audio, transcript, response, response_audio} per user turn, three tool markups."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from toolforge.audio.lfm2 import parse_response, write_lfm2_audio
from toolforge.audio.run import TTSConfig, run_tts
from toolforge.audio.text import exchanges
from toolforge.errors import InputError, UsageError
from toolforge.record import Record
from toolforge.store import Selection, open_store

pytestmark = pytest.mark.integration

CAMERA = {"type": "function", "function": {"name": "pan_left", "description": "Pan the camera left.",
                                           "parameters": {"type": "object", "properties": {}}}}
MULTI_TURN = Record.model_validate({
    "scenario": "single_tool", "tools": [CAMERA],
    "messages": [
        {"role": "user", "content": "Look to the left."},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "pan_left", "arguments": {}}}]},
        {"role": "tool", "tool_call_id": "c1", "name": "pan_left", "content": "{\"ok\": true}"},
        {"role": "assistant", "content": "Looking left now."},
        {"role": "user", "content": "Thank you."},
        {"role": "assistant", "content": "You're welcome."},
    ]})


@pytest.fixture
def voiced(filled_db, sample_records):
    with open_store(filled_db) as store:
        store.upsert_records([MULTI_TURN], source="test")
        run_tts(store, Selection(status="any"), TTSConfig(workers=2))
    return filled_db, [*sample_records, MULTI_TURN]


@pytest.mark.parametrize("markup", ["tag", "lfm2", "action"])
def test_three_markups_on_tool_and_non_tool_turns(voiced, tmp_path, markup):
    db, records = voiced
    out = tmp_path / "out"
    with open_store(db, read_only=True) as store:
        paths = write_lfm2_audio(store, records, out, "train", markup=markup)
    jsonl = out / "train.jsonl"
    assert paths[0] == jsonl and all(p.is_file() for p in paths)
    lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
    expected = [ex for r in records for ex in exchanges(r)]
    assert len(lines) == len(expected) == len(records) + 1          # one line per user turn
    for line, ex in zip(lines, expected, strict=True):
        assert set(line) == {"audio", "transcript", "response", "response_audio"}
        assert line["transcript"] == ex.user_text
        for key in ("audio", "response_audio"):
            info = sf.info(str(out / line[key]))
            assert info.samplerate == 24000 and info.duration > 0.3
        assert line["audio"] != line["response_audio"]
        calls, reply = parse_response(line["response"], markup)
        assert calls == ex.calls and reply == ex.reply_text
    by_text = {line["transcript"]: line["response"] for line in lines}
    tool_line, thanks_line = by_text["Look to the left."], by_text["Thank you."]
    assert tool_line == {
        "tag": "<tool>pan_left</tool> Looking left now.",
        "lfm2": "<|tool_call_start|>[pan_left()]<|tool_call_end|>Looking left now.",
        "action": "ACTION:pan_left RESPONSE:Looking left now.",
    }[markup]
    assert thanks_line == ("ACTION:none RESPONSE:You're welcome." if markup == "action" else "You're welcome.")
    weather = by_text["What's the weather like in Oslo right now?"]
    assert 'get_weather(city="Oslo, Norway")' in weather
    no_tool = next(r for r in records if r.scenario == "no_tool_needed")
    assert parse_response(by_text[no_tool.first_user_text], markup)[0] == []


def test_missing_audio_is_refused_before_anything_is_written(voiced, tmp_path):
    db, records = voiced
    fresh = Record.model_validate({"messages": [{"role": "user", "content": "Never voiced."},
                                                {"role": "assistant", "content": "Indeed."}]})
    out = tmp_path / "out"
    with open_store(db) as store:
        store.upsert_records([fresh], source="test")
        with pytest.raises(InputError) as exc:
            write_lfm2_audio(store, [*records, fresh], out, "train")
        assert "toolforge tts" in exc.value.hint
        with pytest.raises(UsageError):
            write_lfm2_audio(store, records, out, "train", markup="xml")
    assert not out.exists() or not any(out.rglob("*"))


def test_export_cli_lfm2_audio(voiced, run_cli, tmp_path):
    db, records = voiced
    out = tmp_path / "export"
    run_cli("export", "--db", db, "--format", "lfm2-audio", "--tool-markup", "lfm2", "--status", "any",
            "--test-fraction", "0.25", "--out", out, "--json", check=True)
    lines = [json.loads(x) for split in ("train", "test") for x in (out / f"{split}.jsonl").read_text().splitlines()]
    assert len(lines) == len(records) + 1
    assert any(line["response"].startswith("<|tool_call_start|>[") for line in lines)
    for line in lines:
        assert (out / line["audio"]).is_file() and (out / line["response_audio"]).is_file()
    # a store with records but no audio: one-line error, non-zero exit
    bare = tmp_path / "bare.duckdb"
    with open_store(bare) as store:
        store.upsert_records(records[:2], source="test")
    proc = run_cli("export", "--db", bare, "--format", "lfm2-audio", "--status", "any", "--out", tmp_path / "x")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "no current audio" in proc.stderr
