"""Provenance checks: records that copy toolforge's own few-shot examples or prompt text.

Two issue codes (both errors):

- ``copied_example``: the user request or the final answer is a verbatim or
  near copy of one of the project's few-shot examples (``prompts/*/examples.json``):
  the same words (Jaccard of word sets >= :data:`NEAR`, for texts of at least
  four words), or a run of :data:`SHINGLE` words in common; or a tool result
  holds a run of :data:`RESULT_SHINGLE` words of an example's result (its values leaked);
- ``prompt_leak``: the user request holds prompt text: a persona line of the
  seed pools making up most of it, a run of :data:`SHINGLE` words of a prompt
  template, or a scenario's name ("multi_tool_parallel", "complex multi-step").

A record with its own request passes, even on the same topic as an example.
The index is built once per prompts folder. ``generate`` refuses such records
(and re-asks); ``validate`` flags them.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolforge.validate import jsontext
from toolforge.validate.issues import Issue

NEAR = 0.75
SHINGLE = 7
RESULT_SHINGLE = 4  # four words in a row of an example's result text in a record's tool result: its values leaked
PERSONA_SHARE = 0.5
_WORD = re.compile(r"[0-9a-z]+")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
SPACED_SCENARIOS = ("complex multi step", "multi tool parallel", "multi tool sequential", "no tool needed",
                    "reasoning heavy", "single tool call scenario")


def _example_calls(ex: Any) -> list[dict[str, Any]]:
    if not isinstance(ex, dict):
        return []
    calls = [c for turn in ex.get("turns") or [] for c in (turn if isinstance(turn, list) else [])]
    calls += [ex[k] for k in ("failed", "retry") if isinstance(ex.get(k), dict)]
    return [c for c in calls if isinstance(c, dict)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(tokens: list[str], n: int = SHINGLE) -> set[tuple[str, ...]]:
    """The runs of ``n`` consecutive tokens (word n-grams) of ``tokens``."""
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


_shingles = shingles  # the name this module and its equivalence tests use


class _Index:
    def __init__(self, root: Path) -> None:
        import yaml

        from toolforge.record import SCENARIOS

        self.examples: list[tuple[str, list[str]]] = []  # (where, words)
        self.result_shingles: dict[tuple[str, ...], str] = {}  # the example results' own words (their values)
        for path in sorted(root.glob("*/examples.json")):
            try:
                data = json.loads(path.read_text("utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            for i, ex in enumerate(data if isinstance(data, list) else []):
                for call in _example_calls(ex):
                    for value in _strings(call.get("result")):
                        for sh in _shingles(words(value), RESULT_SHINGLE):
                            self.result_shingles.setdefault(sh, f"{path.parent.name} example {i + 1} (result)")
                for key in ("user", "answer"):
                    if isinstance(ex, dict) and isinstance(ex.get(key), str):
                        self.examples.append((f"{path.parent.name} example {i + 1} ({key})", words(ex[key])))
        self.example_shingles: dict[tuple[str, ...], str] = {}
        for where, toks in self.examples:
            for sh in _shingles(toks):
                self.example_shingles.setdefault(sh, where)
        self.prompt_shingles: set[tuple[str, ...]] = set()
        for path in sorted(root.rglob("*.j2")):
            for segment in _JINJA.split(path.read_text("utf-8")):
                self.prompt_shingles |= _shingles(words(segment))
        self.personas: list[list[str]] = []
        for name in ("seeds.yaml", "variety.yaml"):
            p = root / "_shared" / name
            if p.is_file():
                data = yaml.safe_load(p.read_text("utf-8")) or {}
                self.personas += [words(x) for x in data.get("personas") or [] if isinstance(x, str)]
        self.scenarios = [s for s in SCENARIOS] + list(SPACED_SCENARIOS)
        # precomputed once (checks stay the same, see copied_example / prompt_leak)
        self.example_sets = [(where, frozenset(toks)) for where, toks in self.examples if len(toks) >= 4]
        self.by_size = sorted((len(theirs), k) for k, (_, theirs) in enumerate(self.example_sets))
        self.sizes = [t for t, _ in self.by_size]
        self.scenario_checks = [(s, "_" in s, s.split()) for s in self.scenarios]
        self.persona_checks = [p for p in self.personas if len(p) >= 3]
        # for the early-outs (a text that cannot match skips the scan; one that can is scanned as before)
        self.example_vocab = frozenset(w for _, theirs in self.example_sets for w in theirs)
        self.persona_firsts = frozenset(p[0] for p in self.persona_checks)
        self.persona_sets = [(p, frozenset(p)) for p in self.persona_checks]
        self.persona_max = max((len(p) for p in self.persona_checks), default=0)
        self.example_starts = frozenset(sh[0] for sh in self.example_shingles)
        self.prompt_starts = frozenset(sh[0] for sh in self.prompt_shingles)
        self.result_starts = frozenset(sh[0] for sh in self.result_shingles)


@lru_cache(maxsize=4)
def _index(root: str | None = None) -> _Index:
    from toolforge.resources import prompts_dir

    return _Index(Path(root) if root else prompts_dir())


def _may_share_run(toks: list[str], n: int, runs: Any, starts: frozenset[str]) -> bool:
    """Whether some run of ``n`` words of ``toks`` is in ``runs`` (only runs starting with a word of ``starts``,
    the first words of ``runs``, are built). When it is, the caller scans :func:`_shingles` as before, so the
    run it reports is the same one."""
    return any(tuple(toks[i:i + n]) in runs for i in range(len(toks) - n + 1) if toks[i] in starts)


def _contains(hay: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def copied_example(text: str, *, root: str | None = None) -> str | None:
    """Which example ``text`` copies, or None."""
    return _copied(words(text), _index(root))


def _copied(toks: list[str], idx: _Index) -> str | None:
    if not toks:
        return None
    mine = set(toks)
    m = len(mine)
    # Jaccard >= NEAR needs at least NEAR * m of the text's words in the example: when fewer than that appear
    # in any example at all, none can reach it
    if len(toks) >= 4 and m - len(mine - idx.example_vocab) >= NEAR * m:
        # Jaccard <= smaller set / larger set: only examples of a near size can reach NEAR (bounds widened by
        # one, the exact test follows); checked in the examples' order, so the same example is named
        lo = bisect_left(idx.sizes, NEAR * m - 1)
        hi = bisect_right(idx.sizes, m / NEAR + 1)
        for k in sorted(k for _, k in idx.by_size[lo:hi]):
            where, theirs = idx.example_sets[k]
            t = len(theirs)
            if (m / t if m < t else t / m) < NEAR:
                continue
            shared = len(mine & theirs)
            if shared / (m + t - shared) >= NEAR:
                return where
    if _may_share_run(toks, SHINGLE, idx.example_shingles, idx.example_starts):
        for sh in _shingles(toks):
            if sh in idx.example_shingles:
                return idx.example_shingles[sh]
    return None


def prompt_leak(text: str, *, root: str | None = None) -> str | None:
    """What prompt text ``text`` holds, or None."""
    return _leak(text, words(text), _index(root))


def _leak(text: str, toks: list[str], idx: _Index) -> str | None:
    low = text.lower()
    present = set(toks)
    for s, underscored, parts in idx.scenario_checks:
        if (underscored and s in low) or (not underscored and parts[0] in present and _contains(toks, parts)):
            return f"the scenario name {s!r}"
    n = max(1, len(toks))
    # a persona line must be at least PERSONA_SHARE of the text and its first word present
    if idx.persona_max / n >= PERSONA_SHARE and not present.isdisjoint(idx.persona_firsts):
        for persona, pset in idx.persona_sets:  # cheap tests first: share of the words, all words present
            if len(persona) / n >= PERSONA_SHARE and pset <= present and _contains(toks, persona):
                return f"the persona line {' '.join(persona)!r}"
    if len(toks) >= SHINGLE and _may_share_run(toks, SHINGLE, idx.prompt_shingles, idx.prompt_starts):
        for sh in _shingles(toks):
            if sh in idx.prompt_shingles:
                return f"prompt text {' '.join(sh)!r}"
    return None


def _texts(data: dict[str, Any]) -> tuple[tuple[int, str] | None, tuple[int, str] | None]:
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list):
        return None, None
    user = answer = None
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("content"), str):
            continue
        if m.get("role") == "user" and user is None:
            user = (i, m["content"])
        elif m.get("role") == "assistant" and m["content"].strip() and not m.get("tool_calls"):
            answer = (i, m["content"])
    return user, answer


_IDENT = re.compile(r"[A-Za-z][\w.]*(?:_|[a-z][A-Z]|\.[A-Za-z])[\w.]*")


def named_tool(text: str, names: list[str]) -> str | None:
    """The offered tool whose identifier the text writes (``get_weather``, ``getWeather``, ``math.sqrt``), or None.

    Only names a person would not write by chance (with ``_``, ``.`` or an inner capital) count, as whole words.
    """
    idents = [n for n in names if isinstance(n, str) and _IDENT.fullmatch(n)]
    if not idents:
        return None
    for n in idents:
        if n in text and re.search(r"(?<![\w.])" + re.escape(n) + r"(?![\w])", text):  # the cheap test first
            return n
    return None


def _tool_names(data: dict[str, Any]) -> list[str]:
    out = []
    for t in data.get("tools") or []:
        f = t.get("function") if isinstance(t, dict) else None
        name = (f if isinstance(f, dict) else t if isinstance(t, dict) else {}).get("name")
        if isinstance(name, str):
            out.append(name)
    return out


def check_provenance(data: Any, *, root: str | None = None) -> list[Issue]:
    """``copied_example`` / ``prompt_leak`` / ``request_names_tool`` issues of one record (a dict)."""
    if not isinstance(data, dict):
        return []
    user, answer = _texts(data)
    issues: list[Issue] = []
    idx = _index(root)
    if user is not None and (tool := named_tool(user[1], _tool_names(data))) is not None:
        issues.append(Issue("request_names_tool", f"messages[{user[0]}].content",
                            f"the user request names the tool {tool}: users ask for what they want, not for a "
                            "function", "warning"))
    if user is not None:
        toks = words(user[1])  # tokenised once for both checks
        where = _copied(toks, idx)
        if where:
            issues.append(Issue("copied_example", f"messages[{user[0]}].content",
                                f"the user request copies a few-shot example ({where}): write the user's own request"))
        leak = _leak(user[1], toks, idx)
        if leak:
            issues.append(Issue("prompt_leak", f"messages[{user[0]}].content",
                                f"the user request holds {leak}: write what the user would say, not the instructions"))
    for i, m in enumerate(data.get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "tool" and isinstance(m.get("content"), str):
            try:
                values = _strings(jsontext.loads(m["content"]))  # json.loads, parsed once per record
            except json.JSONDecodeError:
                values = [m["content"]]
            hit = None
            for v in values:
                toks = words(v)
                if _may_share_run(toks, RESULT_SHINGLE, idx.result_shingles, idx.result_starts):
                    hit = next(idx.result_shingles[sh] for sh in _shingles(toks, RESULT_SHINGLE)
                               if sh in idx.result_shingles)
                    break
            if hit:
                issues.append(Issue("copied_example", f"messages[{i}].content",
                                    f"the tool result copies a few-shot example's values ({hit})"))
                break
    if answer is not None:
        where = _copied(words(answer[1]), idx)
        if where:
            issues.append(Issue("copied_example", f"messages[{answer[0]}].content",
                                f"the answer copies a few-shot example ({where}): answer from this conversation's results"))
    return issues
