"""The precomputed provenance checks give the same verdicts as the plain ones they replaced.

``_reference_*`` below is the earlier implementation of ``copied_example`` / ``prompt_leak``
(a fresh word set per example, every persona and scenario scanned), kept as the oracle. Texts:
the few-shot examples themselves and near copies (words dropped, swapped, added), persona lines
alone and inside longer requests, scenario names, prompt template runs, the benchmark's records
and random word salads from the same vocabulary.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from toolforge.validate import provenance as P

ROOT = Path(__file__).resolve().parents[3]
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def _reference_copied(text: str) -> str | None:
    idx = P._index(None)
    toks = P.words(text)
    if not toks:
        return None
    mine = set(toks)
    for where, ex in idx.examples:
        if len(ex) >= 4 and len(toks) >= 4:
            theirs = set(ex)
            if len(mine & theirs) / len(mine | theirs) >= P.NEAR:
                return where
    for sh in P._shingles(toks):
        if sh in idx.example_shingles:
            return idx.example_shingles[sh]
    return None


def _reference_leak(text: str) -> str | None:
    idx = P._index(None)
    low = text.lower()
    toks = P.words(text)
    for s in idx.scenarios:
        if ("_" in s and s in low) or ("_" not in s and P._contains(toks, s.split())):
            return f"the scenario name {s!r}"
    for persona in idx.personas:
        if len(persona) >= 3 and P._contains(toks, persona) and len(persona) / max(1, len(toks)) >= P.PERSONA_SHARE:
            return f"the persona line {' '.join(persona)!r}"
    for sh in P._shingles(toks):
        if sh in idx.prompt_shingles:
            return f"prompt text {' '.join(sh)!r}"
    return None


def _texts() -> list[str]:
    idx = P._index(None)
    rng = random.Random(17)
    out: list[str] = []
    vocab: list[str] = []
    for _, toks in idx.examples:
        vocab += toks
        out.append(" ".join(toks))
        for _ in range(6):  # near copies: drop, swap, add words
            t = list(toks)
            for _ in range(rng.randint(1, 4)):
                op = rng.random()
                if op < 0.4 and len(t) > 1:
                    t.pop(rng.randrange(len(t)))
                elif op < 0.7:
                    t.insert(rng.randrange(len(t) + 1), rng.choice(vocab))
                elif len(t) > 1:
                    i, j = rng.randrange(len(t)), rng.randrange(len(t))
                    t[i], t[j] = t[j], t[i]
            out.append(" ".join(t).capitalize() + rng.choice([".", "?", "!", ""]))
    for persona in idx.personas:
        vocab += persona
        line = " ".join(persona)
        out += [line, f"As {line}, what is the weather in Oslo?", f"I am {line} and {line}",
                f"{line} " + " ".join(rng.choice(vocab) for _ in range(len(persona) + rng.randint(-2, 2)))]
    for s in idx.scenarios:
        out += [s, f"Please run a {s} task for me", s.replace("_", "-"), s.upper()]
    for path in sorted((ROOT / "toolforge" / "prompts").rglob("*.j2")):
        for segment in _JINJA.split(path.read_text("utf-8")):
            toks = P.words(segment)
            for i in range(0, max(1, len(toks) - 9), 13):
                out.append("Can you " + " ".join(toks[i:i + rng.randint(5, 10)]) + " please")
    for line in (ROOT / "examples" / "sample.jsonl").read_text().splitlines():
        for m in json.loads(line)["messages"]:
            if isinstance(m.get("content"), str):
                out.append(m["content"])
    for _ in range(1500):
        out.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 30))))
    out += ["", "   ", "Tschüss, 東京 weather?", "a b c d"]
    return out


def test_same_verdicts_as_the_reference() -> None:
    texts = _texts()
    assert len(texts) > 2000
    flagged = 0
    for text in texts:
        assert P.copied_example(text) == _reference_copied(text), text
        assert P.prompt_leak(text) == _reference_leak(text), text
        flagged += bool(_reference_copied(text)) + bool(_reference_leak(text))
    assert flagged > 300  # the texts exercise the matches, not only the misses


def test_check_provenance_tokenises_once_with_the_same_issues() -> None:
    texts = _texts()
    rng = random.Random(3)
    for _ in range(800):
        u, a = rng.choice(texts), rng.choice(texts)
        rec = {"messages": [{"role": "user", "content": u}, {"role": "assistant", "content": a}]}
        got = [(i.code, i.path, i.message) for i in P.check_provenance(rec)]
        want = []
        if (w := _reference_copied(u)):
            want.append(("copied_example", "messages[0].content", w))
        if (w := _reference_leak(u)):
            want.append(("prompt_leak", "messages[0].content", w))
        if a.strip() and (w := _reference_copied(a)):
            want.append(("copied_example", "messages[1].content", w))
        assert [(c, p) for c, p, _ in got] == [(c, p) for c, p, _ in want]
        assert all(w in m for (_, _, m), (_, _, w) in zip(got, want, strict=True))
