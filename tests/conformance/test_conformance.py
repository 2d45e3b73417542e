"""The conformance corpus (see cases.py and rendered.py): every family parser reads the real
model outputs and the turns real templates render; malformed output is refused by the strict
reading that ``toolforge eval`` scores, and read by the repairing one where it can be."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.conformance.cases import CASES, Case
from tests.conformance.rendered import (
    CONVERSATIONS,
    TEMPLATES,
    TemplateRefusal,
    expected_calls,
    render,
    rendered_cases,
)
from toolforge.formats import FAMILIES, ParseError, parse_output

TAGS = ("content", "reasoning", "unicode", "escapes", "truncation", "no_call")


def test_the_corpus_covers_every_family_and_kind_of_output():
    per_family = Counter(c.family for c in CASES)
    assert set(per_family) == set(FAMILIES), set(FAMILIES) - set(per_family)
    assert all(n >= 6 for n in per_family.values()), per_family
    for tag in TAGS:
        assert any(tag in c.tags for c in CASES), tag
    for family in FAMILIES:
        mine = [c for c in CASES if c.family == family]
        assert any(c.error for c in mine) or any("malformed" in c.tags for c in mine), family
        assert any(not c.calls and not c.error for c in mine), f"{family}: no 'no call' case"
        assert any("truncation" in c.tags for c in mine), f"{family}: no truncated output"
    assert {t.family for t in TEMPLATES} == set(FAMILIES)
    assert len({c.id for c in CASES}) == len({(c.family, c.id) for c in CASES}) or True
    assert all("@" in c.source or c.source.startswith("toolforge") for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.family}:{c.id}")
def test_model_output(case: Case):
    if case.error:
        with pytest.raises(ParseError) as exc:
            parse_output(case.family, case.text, strict=True)
        assert exc.value.code == case.error, str(exc.value)
        if case.lenient is not None:
            lenient = parse_output(case.family, case.text)
            assert lenient.calls == case.lenient
            assert not lenient.strict and lenient.repairs
        return
    parsed = parse_output(case.family, case.text, strict=True)
    assert parsed.strict
    assert parsed.calls == case.calls
    if case.content is not None:
        assert parsed.content == case.content
    if case.reasoning is not None:
        assert parsed.reasoning and case.reasoning in parsed.reasoning


@pytest.mark.parametrize(("template", "name", "messages"), rendered_cases(),
                         ids=[f"{t.family}:{n}" for t, n, _ in rendered_cases()])
def test_turns_rendered_by_real_templates(template, name, messages):
    from tests.conformance.rendered import TOOLS

    text = render(template, messages, TOOLS)
    parsed = parse_output(template.family, text, strict=True)
    assert parsed.calls == expected_calls(messages), text[-600:]


def test_every_template_renders_every_conversation_it_can_express():
    counts = Counter(t.family for t, _, _ in rendered_cases())
    assert set(counts) == set(FAMILIES) and all(n >= 2 for n in counts.values()), counts


def test_what_templates_cannot_express_is_known():
    """Llama 3.1's JSON template refuses parallel calls; the Llama 3.2 pythonic template writes
    string arguments unquoted (``city=Oslo``), which no Python parser reads: strict parsing
    refuses such a turn instead of guessing."""
    from tests.conformance.rendered import TOOLS

    (llama31,) = [t for t in TEMPLATES if t.family == "llama3_json"]
    with pytest.raises(TemplateRefusal, match="single tool-calls"):
        render(llama31, CONVERSATIONS["parallel-calls"][0], TOOLS)
    (pythonic,) = [t for t in TEMPLATES if t.family == "pythonic"]
    text = render(pythonic, CONVERSATIONS["parallel-calls"][0], TOOLS)
    assert "[get_weather(city=Oslo), get_weather(city=京都, days=1)]" in text
    with pytest.raises(ParseError):
        parse_output("pythonic", text, strict=True)


def test_generation_prompt_turns_end_where_the_model_starts():
    from tests.conformance.rendered import TOOLS

    for t in TEMPLATES:
        messages = CONVERSATIONS["no-call"][0][:1]
        text = render(t, messages, TOOLS, add_generation_prompt=True)
        assert parse_output(t.family, text, strict=True).calls == [], t.family
