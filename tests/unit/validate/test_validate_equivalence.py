"""The fast validation path gives the issues the straightforward implementation gave, record for record.

The oracle is ``equivalence_golden.jsonl.gz``: about 2,400 records (the planted-fault grounding corpus, the
validator tests' records, the samples and benchmark records, a BFCL sample, and seeded mutants of all of
them) with the issue lists the validator gave them before the speed work (rewritten only for intended
changes of results; see ``equivalence_corpus.py``). Same codes, paths, messages and severities, in the
same order. The rewritten helpers (evidence bags, the misspelling test, the figure patterns) are also
compared with their earlier code directly.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.validate.equivalence_corpus import issue_rows, read_golden
from toolforge.validate import grounding
from toolforge.validate.issues import CODES
from toolforge.validate.record_checks import RecordValidator


@pytest.fixture(scope="module")
def golden() -> list[dict[str, Any]]:
    return read_golden()


def _mismatches(golden: list[dict[str, Any]], validator: RecordValidator, step: int = 1) -> list[str]:
    out = []
    for k in range(0, len(golden), step):
        row = golden[k]
        got = issue_rows(validator.validate(row["record"]))
        if got != row["issues"]:
            out.append(f"record {k}: want {row['issues']}\n got {got}")
    return out


#: the meaning checks there were when the golden file was written (a later check needs its own planted cases)
MEANING_CODES = ("answer_ungrounded", "arg_ungrounded", "unchained_call", "tool_mismatch", "result_ignored",
                 "duplicate_parallel_call", "option_ignored", "live_data_no_call", "claimed_lookup", "retry_unchanged",
                 "copied_example", "prompt_leak")
REWRITE = ("if the change of results is intended (a new or changed check, not a speed-up), rewrite the golden file "
           "with `.venv/bin/python -m tests.unit.validate.equivalence_corpus` and say so in the commit")


def test_the_golden_corpus_exercises_every_meaning_check(golden):
    seen = {i[0] for row in golden for i in row["issues"]}
    assert set(MEANING_CODES) <= seen, f"no record of the corpus gets {sorted(set(MEANING_CODES) - seen)}"
    assert set(MEANING_CODES) <= set(grounding.GROUNDING_CODES) | {"copied_example", "prompt_leak"}
    assert sum(bool(row["issues"]) for row in golden) > len(golden) // 2
    assert sum(not row["issues"] for row in golden) > 300  # and clean records, which must stay clean
    assert seen <= set(CODES)


def test_one_validator_gives_every_record_its_stored_issues(golden):
    bad = _mismatches(golden, RecordValidator())  # caches warm across records, as in a run
    assert not bad, f"{len(bad)} records differ ({REWRITE}); first:\n" + "\n".join(bad[:3])


def test_a_fresh_validator_gives_the_same_issues(golden):
    bad = [b for k in range(0, len(golden), 9) for b in _mismatches(golden[k:k + 1], RecordValidator())]
    assert not bad, "\n".join(bad[:3])


def test_the_validate_command_path_gives_the_stored_issues(golden, tmp_path):
    """``run_validate`` on a JSON Lines file (what ``toolforge validate FILE`` calls)."""
    from toolforge.validate.service import ValidateConfig, run_validate

    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(row["record"], ensure_ascii=False) + "\n" for row in golden), "utf-8")
    report = run_validate(ValidateConfig(file=str(path)))
    got = {int(where.split(":")[1].split(" ")[0]) - 1: issue_rows(issues) for where, issues in report.results}
    want = {k: row["issues"] for k, row in enumerate(golden) if row["issues"]}
    assert got == want, REWRITE
    assert report.summaries[0].records == len(golden)


def test_a_changed_check_is_caught(golden, monkeypatch):
    """The comparison can fail: a check that loses one clause of its message, or misses a figure, is found."""
    real = grounding._answer

    def blunt(final, idx, calls, request, sys_bag, result_bags, tools, issues):  # type: ignore[no-untyped-def]
        before = len(issues)
        real(final, idx, calls, request, sys_bag, result_bags, tools, issues)
        del issues[before + 1:]  # keep at most one answer issue ... and word it differently
        if len(issues) > before:
            i = issues[before]
            issues[before] = type(i)(i.code, i.path, i.message.replace("found in no", "in no"), i.severity)

    monkeypatch.setattr(grounding, "_answer", blunt)
    assert _mismatches(golden, RecordValidator())


def _edit1_dp(a: str, b: str) -> bool:
    """The earlier edit1: a full Levenshtein table with an early stop (the oracle for the faster one)."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 2:
        return False
    limit = 2 if min(la, lb) >= 8 else 1
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        best = cur[0]
        for j in range(1, lb + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            best = min(best, cur[j])
        if best > limit:
            return False
        prev = cur
    return prev[lb] <= limit


def test_edit1_agrees_with_the_levenshtein_table():
    import random

    from toolforge.validate.evidence import edit1

    rng = random.Random(5)
    pairs = []
    for _ in range(40_000):
        a = "".join(rng.choice("abcab") for _ in range(rng.randint(3, 12)))
        b = list(a)
        for _ in range(rng.randint(0, 4)):  # a few random edits, so that near words are common
            how, at = rng.randrange(3), rng.randrange(len(b) + 1)
            if how == 0 and at < len(b):
                b[at] = rng.choice("abcd")
            elif how == 1 and at < len(b):
                del b[at]
            else:
                b.insert(at, rng.choice("abcd"))
        pairs.append((a, "".join(b)))
    got = [edit1(a, b) for a, b in pairs]
    assert got == [_edit1_dp(a, b) for a, b in pairs]
    assert 0.2 < sum(got) / len(got) < 0.8  # both answers are well represented


def _bag_reference(text: str):  # type: ignore[no-untyped-def]
    """The earlier evidence bag (every pattern scanned whenever its cheap guard allowed), the oracle for bag()."""
    from toolforge.validate import evidence as E

    low = text.lower()
    times: set[int] = set()
    if ":" in text or "am" in low or "pm" in low or "m." in low:
        for m in E.TIME.finditer(text):
            if m.group(1) is not None:
                times.add((int(m.group(1)) * 60 + int(m.group(2))) % 720)
            else:
                times.add((int(m.group(3)) * 60) % 720)
    found = E.NUM.findall(text)
    nums = {abs(E.num(x)) for x in found}
    if "," in text:
        for x in found:
            if "," in x:
                nums.update(float(p) for p in x.split(","))
    if "illion" in low or "thousand" in low or "k " in low:
        for m in E.MAGNITUDE.finditer(low):
            nums.add(float(m.group(1)) * E.SCALE[m.group(2)[:2]])
    if "-" in text or "." in text or "/" in text:
        for m in E.DATE.finditer(text):
            nums.update(float(g) for g in (m.group(1), m.group(3), m.group(4)) if g)
    words = set(E.WORD.findall(low))
    for w in words & E.WORD_NUM_KEYS:
        nums.add(E.WORD_NUMS[w])
    return low, {E.stem(w) for w in words - E.STOP}, nums, times


def test_evidence_bags_equal_the_reference(golden):
    from toolforge.validate.evidence import bag

    texts = ["at 4 pm", "4:30", "at 4 a.m", "16:05:00 UTC", "2026-03-31", "1.5 million", "3k users", "٣:٤٥",
             "no figures here at all", "twenty-one dollars", "200,300,400", "5\u00a0PM", "v1.2.3", "4 P.M.", ""]
    for row in golden:
        for m in row["record"].get("messages") or []:
            if isinstance(m, dict):
                for v in (m.get("content"), json.dumps(m.get("tool_calls"), ensure_ascii=False)):
                    if isinstance(v, str):
                        texts.append(v)
    for t in texts:
        b = bag(t)
        assert (b.low, b.stems, b.nums, b.times) == _bag_reference(t), t


#: the figure patterns before "(?=\d)" was put first (the oracle: the same matches at every position)
_OLD_PATTERNS = {
    "NUM": r"(?<![A-Za-z0-9_.])(?<![A-Za-z0-9]-)(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?!\.?\d)",
    "DATE": r"(?<!\d)(\d{4})([-./])(\d{1,2})(?:\2(\d{1,2}))?(?!\d)",
    "TIME": r"(?<![\d+-])(\d{1,2}):(\d{2})(?::\d{2})?(?!\d)|\b(\d{1,2})\s?([ap])\.?m\.?(?![a-z])",
}


def test_figure_patterns_match_as_before(golden):
    import re

    from toolforge.validate import evidence as E

    texts = ["4:30 pm", "at 4 a.m.", "+4:30", "-12:00", "1,234.5 and 12,34", "2026-03-31 2026/3/1 20261-3-1",
             "٣:٤٥ ٢٠٢٦-٠٣-٣١", "v1.2.3 x-12 ab12 .5 3.", "10:00:00Z", "5PM 5 P.M. 5pmx"]
    texts += [m["content"] for row in golden for m in row["record"].get("messages") or []
              if isinstance(m, dict) and isinstance(m.get("content"), str)]
    for name, old in _OLD_PATTERNS.items():
        new = getattr(E, name)
        old_rx = re.compile(old, new.flags)
        for t in texts:
            assert [m.span() + m.groups() for m in new.finditer(t)] == \
                [m.span() + m.groups() for m in old_rx.finditer(t)], (name, t)
            assert new.sub(" ", t) == old_rx.sub(" ", t)
