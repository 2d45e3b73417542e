"""Which turns are spoken, and how text is cleaned for speaking."""

from toolforge.audio.text import exchanges, spoken, turns_to_speak
from toolforge.record import Record


def _rec(messages):
    return Record.model_validate({"messages": messages})


TOOL_CALL = {"id": "c1", "type": "function", "function": {"name": "pan_left", "arguments": {}}}


def test_spoken_strips_markdown_and_code():
    assert spoken("**Done!** See [the page](https://x.org) and `x`.\n\n```py\nprint(1)\n```\n- item") == \
        "Done! See the page and x. item"
    assert spoken(None) == "" and spoken("   ") == ""
    assert spoken("It is 4 °C (39°F), wind 18 km/h.") == \
        "It is 4 degrees Celsius (39 degrees Fahrenheit), wind 18 kilometres per hour."


def test_exchanges_collect_calls_and_the_last_reply():
    rec = _rec([
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "Look left."},
        {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]},
        {"role": "tool", "tool_call_id": "c1", "name": "pan_left", "content": "ok"},
        {"role": "assistant", "content": "Looking left now."},
        {"role": "user", "content": "Thanks!"},
        {"role": "assistant", "content": "You're welcome."},
    ])
    exs = exchanges(rec)
    assert [(e.user_index, e.reply_index) for e in exs] == [(1, 4), (5, 6)]
    assert exs[0].calls == [{"name": "pan_left", "arguments": {}}] and exs[1].calls == []
    per_turn, problems = turns_to_speak(rec, "per-turn")
    assert [(t.index, t.role) for t in per_turn] == [(1, "user"), (4, "assistant"), (5, "user"), (6, "assistant")]
    assert not problems
    final, _ = turns_to_speak(rec, "final")
    assert [(t.index, t.role) for t in final] == [(1, "user"), (5, "user"), (6, "assistant")]
    none, _ = turns_to_speak(rec, "none")
    assert [t.role for t in none] == ["user", "user"]


def test_user_turn_without_text_is_reported_not_spoken():
    rec = _rec([{"role": "user", "content": "  "}, {"role": "assistant", "content": "Hello."}])
    turns, problems = turns_to_speak(rec)
    assert [t.role for t in turns] == ["assistant"]
    assert problems == [(0, "the user turn has no text to speak")]
