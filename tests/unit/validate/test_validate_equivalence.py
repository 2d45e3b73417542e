"""The fast validation path gives the issues the straightforward implementation gave, record for record.

The oracle is ``equivalence_golden.jsonl.gz``: 2,380 records (the planted-fault grounding corpus, the
validator tests' records, the samples and benchmark records, a BFCL sample, and seeded mutants of all of
them) with the issue lists that the validator at commit c449b24, before the speed work, gave them. Same
codes, paths, messages and severities, in the same order. See ``equivalence_corpus.py``.
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


def test_the_golden_corpus_exercises_every_meaning_check(golden):
    seen = {i[0] for row in golden for i in row["issues"]}
    meaning = set(grounding.GROUNDING_CODES) | {"copied_example", "prompt_leak"}
    assert meaning <= seen, f"no record of the corpus gets {sorted(meaning - seen)}"
    assert sum(bool(row["issues"]) for row in golden) > len(golden) // 2
    assert sum(not row["issues"] for row in golden) > 300  # and clean records, which must stay clean
    assert seen <= set(CODES)


def test_one_validator_gives_every_record_its_stored_issues(golden):
    bad = _mismatches(golden, RecordValidator())  # caches warm across records, as in a run
    assert not bad, f"{len(bad)} records differ; first:\n" + "\n".join(bad[:3])


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
    assert got == want
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
