"""toolforge.cli.display: what reaches the terminal (unit logic; the CLI cases are in
tests/reliability/test_terminal_injection.py)."""

from __future__ import annotations

import io
import json

import pytest

from toolforge.cli.display import Column, ProgressLines, clean, json_text, print_table


@pytest.mark.parametrize("raw, shown", [
    ("a\x1b[2Jb", "ab"),                                              # clear screen
    ("a\x1b[31;1mred\x1b[0m", "ared"),                                 # colours
    ("\x1b]0;title\x07x", "x"),                                       # window title, BEL-terminated
    ("\x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\", "link"),     # OSC 8 hyperlink, ST-terminated
    ("a\x1bcb", "ab"),                                                # ESC c: reset the terminal
    ("\x1bP+q\x1b\\z", "z"),                                          # DCS string
    ("a\x9b2Jb\x9d0;t\x9cc", "abc"),                                  # 8-bit CSI and OSC
    ("a\x00\x07\x08\x7f\x85b", "ab"),                                 # C0, DEL, C1
    ("abc\u202edef\u2066g", "abcdefg"),                               # bidi override and isolate
    ("one\ntwo\tthree\r\nfour\rfive", "one two three four five"),     # one line: breaks become spaces
    ("[/bold] [link=x]y[/link] :smile:", "[/bold] [link=x]y[/link] :smile:"),  # markup is text here
    ("unterminated \x1b]0;title", "unterminated "),                   # an OSC never ended eats the rest
    ("héllo 東京 🙂", "héllo 東京 🙂"),                                  # printable Unicode untouched
])
def test_clean(raw, shown):
    assert clean(raw) == shown


def test_clean_multiline_keeps_lines_and_tabs():
    assert clean("a\tb\r\nc\rd\x1b[Ke", multiline=True) == "a\tb\nc\nde"


def test_json_text_is_exact_and_printable():
    data = {"t": "a\x1b]0;x\x07\x9b31m\u202e[/bold]\u2028", "ok": "héllo"}
    text = json_text(data)
    assert json.loads(text) == data
    assert not any(ch in text for ch in "\x1b\x07\x9b\u202e\u2028")
    assert "\\u009b" in text and "héllo" in text


def test_plain_table_cannot_gain_columns_or_rows():
    out = io.StringIO()
    print_table(["a", Column("b", justify="right")], [["x\ty", "1\n2"], [None, 3]], title="t\x1b[2J", file=out)
    assert out.getvalue() == "# t\na\tb\nx y\t1 2\n-\t3\n"


def test_progress_lines_write_every_interval_and_the_final_state():
    out = io.StringIO()
    state = {"n": 0}
    import time

    with ProgressLines("job", lambda: f"{state['n']} done\x1b[2J", interval=0.05, file=out):
        for _ in range(6):
            time.sleep(0.03)
            state["n"] += 1
    lines = out.getvalue().splitlines()
    assert len(lines) >= 2 and all(line.startswith("job: ") for line in lines)
    assert lines[-1].startswith("job: 6 done (") and "\x1b" not in out.getvalue()


def test_progress_lines_stay_silent_for_a_short_job():
    out = io.StringIO()
    with ProgressLines("job", lambda: "x", interval=5, file=out):
        pass
    assert out.getvalue() == ""
