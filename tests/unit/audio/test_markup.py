"""The three LFM2-Audio tool markups, rendered and parsed back, for tool and non-tool turns."""

import pytest

from toolforge.audio.lfm2 import parse_response, py_literal, render_response
from toolforge.errors import UsageError

PAN = [{"name": "pan_left", "arguments": {}}]
TWO = [{"name": "get_weather", "arguments": {"city": "Oslo, Norway", "days": 2, "metric": True}},
       {"name": "tilt", "arguments": {"angles": [1.5, -2], "opts": {"fast": None}}}]


def test_tag_markup():
    assert render_response(PAN, "Looking left now.", "tag") == "<tool>pan_left</tool> Looking left now."
    assert render_response(TWO, "Done.", "tag") == (
        '<tool>get_weather(city="Oslo, Norway", days=2, metric=True)</tool> '
        '<tool>tilt(angles=[1.5, -2], opts={"fast": None})</tool> Done.')
    assert render_response([], "Hello.", "tag") == "Hello."


def test_lfm2_markup():
    assert render_response(PAN, "Looking left now.", "lfm2") == \
        "<|tool_call_start|>[pan_left()]<|tool_call_end|>Looking left now."
    assert render_response([], "Hello.", "lfm2") == "Hello."


def test_action_markup():
    assert render_response(PAN, "Looking left now.", "action") == "ACTION:pan_left RESPONSE:Looking left now."
    assert render_response([], "Hello.", "action") == "ACTION:none RESPONSE:Hello."
    assert render_response(TWO, "Ok.", "action").startswith('ACTION:get_weather(city="Oslo, Norway", days=2, metric=True);tilt(')


@pytest.mark.parametrize("markup", ["tag", "lfm2", "action"])
@pytest.mark.parametrize("calls", [[], PAN, TWO])
def test_round_trip(markup, calls):
    text = render_response(calls, "It is 4 °C; fine (mostly).", markup)
    got_calls, reply = parse_response(text, markup)
    assert got_calls == calls
    assert reply == "It is 4 °C; fine (mostly)."


def test_unknown_markup_and_malformed_text():
    with pytest.raises(UsageError):
        render_response(PAN, "x", "xml")
    with pytest.raises(ValueError):
        parse_response("pan_left: ok", "action")
    with pytest.raises(ValueError):
        parse_response("<tool>__import__('os').system('x')</tool> hi", "tag")


def test_py_literal():
    assert py_literal({"a": [True, None, "x\"y"]}) == '{"a": [True, None, "x\\"y"]}'
