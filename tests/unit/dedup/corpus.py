"""A generated corpus with planted duplicates (deterministic for a seed).

- distinct records: a request template plus random words from a large made-up
  vocabulary, so two distinct records share little more than template words;
- exact duplicates: the same first user request (case and spacing changed) and
  the same calls, with a different final answer, so the content id differs;
- near duplicates: the request with two adjacent words swapped, case and
  punctuation changed, and in half of them one word replaced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from toolforge.record import Record

TEMPLATES = [
    "Could you look up {a} {b} for the {c} near {d} and tell me about {e} {f}",
    "I need the {a} report on {b} {c} before my {d} meeting with {e} about {f}",
    "Please find {a} flights from {b} to {c} leaving after {d} with {e} {f} included",
    "What is the {a} {b} of the {c} project and who owns the {d} {e} {f}",
    "Send a note to {a} saying the {b} {c} moved to {d} because of {e} {f}",
    "Book a table at {a} {b} for {c} people on {d} near the {e} {f}",
    "Translate the {a} {b} into {c} and keep the {d} {e} terms {f}",
    "Remind me to check {a} {b} and {c} every {d} until the {e} {f} ends",
]
_SYLLABLES = ["ka", "lo", "mi", "ru", "te", "sa", "no", "vi", "de", "po", "fa", "zu", "ri", "gen", "tor", "bel"]


def _vocab(rng: random.Random, n: int = 3000) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


TOOLS = [{"type": "function", "function": {"name": "lookup", "description": "Look something up.",
                                           "parameters": {"type": "object", "properties": {
                                               "query": {"type": "string"}, "topic": {"type": "string"}},
                                               "required": ["query"]}}}]


def make_record(user: str, query: str, topic: str, answer: str, system: str = "You are a helpful assistant.") -> Record:
    return Record.model_validate({
        "scenario": "single_tool",
        "tools": TOOLS,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "lookup", "arguments": {"query": query, "topic": topic}}}]},
            {"role": "tool", "tool_call_id": "call_1", "name": "lookup", "content": '{"ok": true}'},
            {"role": "assistant", "content": answer},
        ],
    })


@dataclass
class Corpus:
    records: list[Record]
    exact_pairs: list[tuple[str, str]] = field(default_factory=list)   # (original id, duplicate id)
    near_pairs: list[tuple[str, str]] = field(default_factory=list)
    source_of: dict[str, str] = field(default_factory=dict)           # record id -> id of its original


def _variant(text: str, rng: random.Random, vocab: list[str], replace: bool) -> str:
    words = text.split()
    i = rng.randrange(1, len(words) - 2)
    words[i], words[i + 1] = words[i + 1], words[i]
    if replace:
        j = rng.randrange(len(words))
        words[j] = rng.choice(vocab)
    words = [w.upper() if rng.random() < 0.2 else w for w in words]
    out = " ".join(words)
    out = out[0].lower() + out[1:]
    return out.replace(" and ", ", and ", 1) + rng.choice(["?", "!", " ...", ".", "??"])


def make_corpus(n_distinct: int = 600, n_exact: int = 60, n_near: int = 90, seed: int = 5) -> Corpus:
    rng = random.Random(seed)
    vocab = _vocab(rng)
    originals: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    while len(originals) < n_distinct:
        tpl = TEMPLATES[len(originals) % len(TEMPLATES)]
        slots = {k: rng.choice(vocab) for k in "abcdef"}
        user = tpl.format(**slots)
        if user in seen:
            continue
        seen.add(user)
        originals.append((user, f"{slots['a']} {slots['b']}", slots["c"]))
    corpus = Corpus(records=[])
    for n, (user, query, topic) in enumerate(originals):
        rec = make_record(user, query, topic, f"Here is what I found ({n}).")
        corpus.records.append(rec)
        corpus.source_of[rec.id] = rec.id  # type: ignore[index]
    picks = rng.sample(range(n_distinct), n_exact + n_near)
    for k, i in enumerate(picks):
        orig = corpus.records[i]
        user, query, topic = originals[i]
        if k < n_exact:
            dup_user = "  " + user.upper() + "  " if k % 2 else user.replace(" ", "  ")
            dup = make_record(dup_user, query, topic, f"Another answer ({k}).", system="You can call tools.")
            corpus.exact_pairs.append((orig.id, dup.id))  # type: ignore[arg-type]
        else:
            dup = make_record(_variant(user, rng, vocab, replace=k % 2 == 0), query, topic, f"Variant answer ({k}).")
            corpus.near_pairs.append((orig.id, dup.id))  # type: ignore[arg-type]
        corpus.records.append(dup)
        corpus.source_of[dup.id] = orig.id  # type: ignore[index]
    rng.shuffle(corpus.records)
    return corpus
