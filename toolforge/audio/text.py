"""What is spoken: the user turns and the assistant's spoken replies of a record.

A record is split into *exchanges*, one per user turn: the user's message, the
tool calls the assistant made before the next user turn, and the assistant's
spoken reply (the last assistant message of the exchange with text). Replies
are voiced per exchange (``per-turn``), only for the record's final answer
(``final``), or not at all (``none``).

Text is data: it is cleaned of Markdown for speaking and handed to an engine
on stdin or through its API; file names never come from it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from toolforge.record import Record

Replies = Literal["per-turn", "final", "none"]
REPLIES: tuple[str, ...] = ("per-turn", "final", "none")

_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_MARKS = re.compile(r"(\*\*|__|\*|`|^#+\s*|^\s*[-*+]\s+|^\s*>\s*)", re.M)
_SPACE = re.compile(r"\s+")
# Units that espeak-ng spells out letter by letter ("4 °C" -> "four degrees C", "km/h" -> "km slash h")
_UNITS = [(re.compile(p), w) for p, w in (
    (r"\s?°\s?C\b", " degrees Celsius"), (r"\s?°\s?F\b", " degrees Fahrenheit"), (r"\s?°", " degrees"),
    (r"(?<=\d)\s?km/h\b", " kilometres per hour"), (r"(?<=\d)\s?m/s\b", " metres per second"),
)]


def spoken(text: str | None) -> str:
    """Text as it should be read aloud: Markdown marks and code blocks removed, a few unit symbols
    spelled out, spaces collapsed. This is also the transcript of the audio."""
    if not text:
        return ""
    t = _CODE_BLOCK.sub(" ", text)
    t = _LINK.sub(r"\1", t)
    t = _MARKS.sub("", t)
    for pattern, words in _UNITS:
        t = pattern.sub(words, t)
    return _SPACE.sub(" ", t).strip()


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Exchange:
    user_index: int
    user_text: str                       # as spoken
    calls: list[dict[str, Any]] = field(default_factory=list)   # [{"name", "arguments"}]
    reply_index: int | None = None
    reply_text: str = ""                 # as spoken


def exchanges(record: Record) -> list[Exchange]:
    out: list[Exchange] = []
    for i, m in enumerate(record.messages):
        if m.role == "user":
            out.append(Exchange(user_index=i, user_text=spoken(m.content)))
        elif m.role == "assistant" and out:
            ex = out[-1]
            for c in m.tool_calls or []:
                ex.calls.append({"name": c.function.name, "arguments": c.function.arguments})
            said = spoken(m.content)
            if said:
                ex.reply_index, ex.reply_text = i, said
    return out


@dataclass(frozen=True)
class Turn:
    index: int      # message index in the record
    role: str       # user | assistant
    text: str       # what is spoken


def turns_to_speak(record: Record, replies: str = "per-turn") -> tuple[list[Turn], list[tuple[int, str]]]:
    """The turns to voice, and the user turns that have nothing to speak ``[(index, reason)]``."""
    turns: list[Turn] = []
    problems: list[tuple[int, str]] = []
    exs = exchanges(record)
    last = len(record.messages) - 1
    for ex in exs:
        if ex.user_text:
            turns.append(Turn(ex.user_index, "user", ex.user_text))
        else:
            problems.append((ex.user_index, "the user turn has no text to speak"))
        if ex.reply_index is None or replies == "none":
            continue
        if replies == "per-turn" or (replies == "final" and ex.reply_index == last):
            turns.append(Turn(ex.reply_index, "assistant", ex.reply_text))
    return turns, problems
